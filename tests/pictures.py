"""The docs' pictures of reloadmw's own pages, taken in headless Chromium.

``python -m tests.pictures`` (after the README's test command) serves a copy of
docs/examples/hello.py with ``reloadmw serve``, opens it, saves an edit that does
not compile, then one that does not import, and takes the page the browser shows
after each (it reloads by itself): docs/_static/syntax-error.png and
import-error.png. ``--out`` writes them elsewhere; the tests do.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "_static"
#: Each picture: the edit of MESSAGE's line, and what the page says once it shows it.
EDITS = {
    "syntax-error.png": ('MESSAGE = "Hello from reloadmw!', "Syntax error in the changed code"),
    "import-error.png": (
        "from greetings import MESSAGE  # a module not written yet",
        "ModuleNotFoundError",
    ),
}


def save(path: Path, line: str) -> None:
    """``MESSAGE``'s line replaced, as an editor saves (the mtime moves)."""
    lines = path.read_text().splitlines()
    index = next(i for i, each in enumerate(lines) if each.startswith(("MESSAGE", "from greet")))
    lines[index] = line
    before = path.stat().st_mtime_ns
    path.write_text("\n".join(lines) + "\n")
    if path.stat().st_mtime_ns <= before:
        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


def take(out: Path, port: int) -> dict[str, str]:
    """The pictures, in ``out``; what each page said, by picture."""
    from playwright.sync_api import sync_playwright

    from tests.support.browser import chromium

    work = Path(tempfile.mkdtemp(prefix="reloadmw-pictures-"))
    hello = work / "hello.py"
    shutil.copy(ROOT / "docs" / "examples" / "hello.py", hello)
    server = subprocess.Popen(
        [sys.executable, "-m", "reloadmw", "serve", "hello.py", "--port", str(port)],
        cwd=work, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    said = {}
    try:
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
            try:
                page = browser.new_page(viewport={"width": 820, "height": 300})
                deadline = time.monotonic() + 60
                while True:
                    try:
                        page.goto(f"http://127.0.0.1:{port}/")
                        break
                    except Exception:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.2)
                for name, (line, shown) in EDITS.items():
                    save(hello, line)
                    page.wait_for_function(
                        "text => document.body && document.body.innerText.includes(text)",
                        arg=shown, timeout=30_000, polling=100,
                    )  # fmt: skip
                    time.sleep(0.5)  # let the page settle before the picture
                    out.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(out / name))
                    said[name] = page.inner_text("body")
            finally:
                browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    return said


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.pictures")
    parser.add_argument("--out", type=Path, default=OUT, help="where to write the pictures")
    parser.add_argument("--port", type=int, default=8000)
    options = parser.parse_args(argv)
    take(options.out, options.port)
    print(f"written in {options.out}: {', '.join(EDITS)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
