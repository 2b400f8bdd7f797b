"""A real browser for the tests: headless Chromium (Debian's package) driven by Playwright.

The test set-up installs both (tests/install.sh: ``chromium``; the test extra:
``playwright``, whose own browser download is never used). A test that needs the
browser fails, never skips, when either is missing.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .edits import APPS
from .files import write

#: Where Debian's chromium package puts its command, and other names it goes by.
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")


def chromium() -> str:
    for name in CHROMIUM:
        path = shutil.which(name)
        if path is not None:
            return path
    pytest.fail("chromium is not installed: run the README's test command, which installs it")


@dataclass
class Tab:
    """One page in the browser, with what its console said and how often it loaded."""

    page: Any
    console: list[str] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)

    def text(self, selector: str) -> str:
        return str(self.page.inner_text(selector))

    def wait_for_text(self, selector: str, text: str, timeout: float) -> float:
        """Seconds until ``selector`` shows ``text``, with no action on the page meanwhile."""
        started = time.monotonic()
        self.page.wait_for_function(
            "([selector, text]) => { const e = document.querySelector(selector);"
            " return e !== null && e.textContent === text; }",
            arg=[selector, text],
            timeout=timeout * 1000,
            polling=20,
        )
        return time.monotonic() - started


@contextmanager
def browser() -> Iterator[Any]:
    """Headless Chromium, closed afterwards."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: run the README's test command")
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


def open_tab(launched: Any, url: str) -> Tab:
    """A new tab on ``url``; its console messages and loads are recorded from the start."""
    page = launched.new_page(viewport={"width": 800, "height": 600})
    tab = Tab(page)
    page.on("console", lambda message: tab.console.append(f"{message.type}: {message.text}"))
    page.on("load", lambda _: tab.loads.append(time.monotonic()))
    page.goto(url)
    return tab


def install_live_page(directory: Path) -> dict[str, Path]:
    """tests/apps/live_page.py as ``directory/live_page.py``, and the files it reads."""
    shutil.copy(APPS / "live_page.py", directory / "live_page.py")
    return {
        "words": write(directory / "words.py", 'TEXT = "first words"\n'),
        "css": write(directory / "static" / "site.css", "h1 { color: rgb(200, 0, 0); }\n"),
        "note": write(directory / "note.html", "a first note"),
    }
