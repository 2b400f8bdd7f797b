"""Live reload in a real browser: save -> the open page shows the edit, with no action on it.

One small Django project (a copy of docs/examples/djangosite, its template made a
full document with ``<body>``) runs under each tool, and headless Chromium
(Debian's, driven by Playwright) keeps its page open:

- ``reloadmw serve`` with its live reload (on by default), templates as extra files;
- Django's ``runserver`` (StatReloader) with django-browser-reload in the copy's
  settings and urls.

Per edit: the page sits idle for about 1.5 s (the developer reads it), ``MESSAGE``
in mysite/views.py is saved with a new text, and the time is taken from just after
the write until the page's ``<h1>`` shows it (polled in the page every 20 ms).
Both tools find a change on a 1 s beat (reloadmw's page asks once a second from
its load; runserver's StatReloader looks once a second from its start), and a
fixed idle would save at the same point of that beat every time: the idle is
1.5 s +- 0.5 s instead (``--jitter``; seeded, the same idles for both tools).
Counted too, per tool: the page loads per edit, when the reload began, the loads
that failed or showed an error page or the old text, the server's restarts, and
what the page's console said.

``python -m tests.benchmarks.live_reload [--edits N] [--jitter S] [--seed N] [--quick]``
(quick: 1 edit per tool instead of 6); bounded in time, every server on 127.0.0.1 and
stopped by its pid. The last line of stdout is the results as JSON.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests import support
from tests.benchmarks import djangosite
from tests.benchmarks.staleness import stop

CHROMIUM = "/usr/bin/chromium"
TOOLS = ("reloadmw serve (live reload)", "runserver + django-browser-reload")
TIMEOUT = 30.0  # every wait for the page, at most
#: Reports what each document showed, once parsed: a load of the old text is a stale one.
RECORD = (
    "addEventListener('DOMContentLoaded', () => { const h = document.querySelector('h1');"
    " if (window.benchShown) window.benchShown(h === null ? null : h.textContent); });"
)
SHOWS = "text => { const h = document.querySelector('h1'); return h !== null && h.textContent === text; }"  # noqa: E501
RESTARTED = {TOOLS[0]: r"reloadmw: restarted in", TOOLS[1]: r" changed, reloading\."}


def make_project(tool: str) -> Path:
    """A copy of the example; for django-browser-reload, with the app, its middleware and urls."""
    root = djangosite.copy("reloadmw-live-")
    page = root / "mysite" / "templates" / "page.html"
    page.write_text(page.read_text().replace("<h1>", "<body>\n<h1>", 1) + "</body>\n")
    if tool == TOOLS[1]:
        settings, urls = root / "mysite" / "settings.py", root / "mysite" / "urls.py"
        settings.write_text(settings.read_text() + 'INSTALLED_APPS += ["django_browser_reload"]\n'
                            'MIDDLEWARE = ["django_browser_reload.middleware.'
                            'BrowserReloadMiddleware"]\n')  # fmt: skip
        urls.write_text(urls.read_text().replace("import path", "import include, path")
                        + 'urlpatterns.append(path("__reload__/", '
                        'include("django_browser_reload.urls")))\n')  # fmt: skip
    return root


def start(tool: str, root: Path, port: int, log: Any) -> subprocess.Popen[bytes]:
    if tool == TOOLS[0]:
        argv = [sys.executable, "-m", "reloadmw", "serve", "--port", str(port), "--extra-file",
                f"{root}/mysite/templates/**/*.html", "mysite.wsgi:application"]  # fmt: skip
    else:
        argv = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}"]
    env = djangosite.environment(root)
    return subprocess.Popen(argv, cwd=root, stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)  # fmt: skip


def wait_up(url: str, timeout: float = 60.0) -> None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer in {timeout:.0f} s")


@dataclass
class Watch:
    """What the page did, with monotonic times."""

    expected: str = ""
    loads: list[float] = field(default_factory=list)
    navigations: list[float] = field(default_factory=list)
    bad: list[tuple[float, str]] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def shown(self, h1: str | None) -> None:
        if h1 != self.expected:
            self.bad.append((time.monotonic(), f"a load showed {h1!r}, not {self.expected!r}"))


def watch_page(page: Any) -> Watch:
    watch = Watch()

    def navigation(request: Any) -> bool:
        return bool(request.is_navigation_request() and request.frame == page.main_frame)

    def on_request(request: Any) -> None:
        if navigation(request):
            watch.navigations.append(time.monotonic())

    def on_failed(request: Any) -> None:
        if navigation(request):
            watch.bad.append((time.monotonic(), f"a load failed: {request.failure}"))

    def on_response(response: Any) -> None:
        if navigation(response.request) and response.status >= 400:
            watch.bad.append((time.monotonic(), f"a load answered {response.status}"))

    def on_console(message: Any) -> None:
        where = message.location.get("url") or "no url"
        watch.console.append(f"{message.type}: {message.text} ({where})")

    page.on("request", on_request)
    page.on("requestfailed", on_failed)
    page.on("response", on_response)
    page.on("load", lambda _: watch.loads.append(time.monotonic()))
    page.on("console", on_console)
    page.on("pageerror", lambda error: watch.console.append(f"pageerror: {error}"))
    page.expose_function("benchShown", watch.shown)
    page.add_init_script(RECORD)
    return watch


def measure(browser: Any, tool: str, idles: list[float]) -> dict[str, object]:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    root, port = make_project(tool), support.free_port()
    url = f"http://127.0.0.1:{port}/"
    log = (root.parent / "server.log").open("wb")
    server = start(tool, root, port, log)
    context = browser.new_context(viewport={"width": 800, "height": 600})
    try:
        try:
            wait_up(url)
        except RuntimeError as error:
            log.flush()
            said = (root.parent / "server.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{tool}: {error}; its output:\n{said}") from None
        page = context.new_page()
        page.set_default_timeout(TIMEOUT * 1000)
        watch = watch_page(page)
        watch.expected = str(page.goto(url) and page.inner_text("h1"))
        saves: list[float] = []
        seconds: list[float | None] = []
        for number, idle in enumerate(idles, 1):
            page.wait_for_timeout(idle * 1000)  # events are handled while Playwright waits
            watch.expected = f"edit {number} at {time.time():.6f}"
            djangosite.save(root, watch.expected)
            saves.append(time.monotonic())
            try:
                page.wait_for_function(SHOWS, arg=watch.expected, polling=20)
                seconds.append(time.monotonic() - saves[-1])
            except PlaywrightTimeout:
                seconds.append(None)
                page.goto(url)
        page.wait_for_timeout(2 * djangosite.IDLE * 1000)  # a late second reload would show here
        ends = [*saves[1:], time.monotonic()]
        loads = [sum(a <= t < b for t in watch.loads) for a, b in zip(saves, ends, strict=True)]
        began = [next((t - a for t in watch.navigations if a <= t < b), None)
                 for a, b in zip(saves, ends, strict=True)]  # fmt: skip
        log.flush()
        restarts = len(re.findall(RESTARTED[tool], (root.parent / "server.log").read_text()))
        done = [s for s in seconds if s is not None]
        started = [b for b in began if b is not None]
        return {
            "tool": tool, "edits": len(idles), "seconds": seconds, "loads": loads,
            "median": statistics.median(done) if done else None,
            "max": max(done) if len(done) == len(idles) else None,
            "began": statistics.median(started) if started else None,
            "bad": [why for t, why in watch.bad if t >= saves[0]], "restarts": restarts,
            "console_errors": [c for c in watch.console if c.startswith(("error", "pageerror"))],
            "console": watch.console,
        }  # fmt: skip
    finally:
        context.close()
        stop(server)
        log.close()
        shutil.rmtree(root.parent, ignore_errors=True)


def run(edits: int = 6, jitter: float = 1.0, seed: int = 0) -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    idles = djangosite.idles(edits, jitter, seed)
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            rows = [measure(browser, tool, idles) for tool in TOOLS]
        finally:
            browser.close()
    medians = [row["median"] for row in rows]
    ratio = medians[0] / medians[1] if None not in medians else None  # type: ignore[operator]
    return {"rows": rows, "ratio": ratio, "idles": idles}


def report(result: dict[str, object]) -> list[str]:
    def sec(value: object) -> str:
        return f"{value:.2f} s" if isinstance(value, float) else "never"

    lines = [
        "Live reload in headless Chromium: save -> the open page shows the edit (Django project "
        "of docs/examples/djangosite; idle before each edit: "
        f"{' '.join(f'{i:.2f}' for i in result['idles'])} s)",  # type: ignore[attr-defined]
        f"{'tool':34} {'edits':>5} {'median':>7} {'max':>7} {'reload began':>12} "
        f"{'loads per edit':>15} {'bad loads':>9} {'restarts':>8} {'console errors':>14}",
    ]
    for row in result["rows"]:  # type: ignore[attr-defined]
        loads = " ".join(map(str, row["loads"]))
        loads = f"{row['loads'][0]} each" if len(set(row["loads"])) == 1 else loads
        lines.append(
            f"{row['tool']:34} {row['edits']:>5} {sec(row['median']):>7} {sec(row['max']):>7} "
            f"{sec(row['began']):>12} {loads:>15} {len(row['bad']):>9} {row['restarts']:>8} "
            f"{len(row['console_errors']):>14}"
        )
        lines.append(f"  each edit: {' '.join(sec(s) for s in row['seconds'])}")
        lines += [f"  {why}" for why in dict.fromkeys(row["bad"])]
        lines += [f"  console: {c}" for c in dict.fromkeys(row["console"])]
    ratio = result["ratio"]
    lines.append(
        f"reloadmw / django-browser-reload, medians: {ratio:.2f}"
        if isinstance(ratio, float) else "reloadmw / django-browser-reload: no ratio"
    )  # fmt: skip
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.live_reload")
    parser.add_argument("--edits", type=int, default=6, help="edits per tool")
    parser.add_argument("--jitter", type=float, default=1.0, help="idle spread (s), 0: 1.5 s")
    parser.add_argument("--seed", type=int, default=0, help="of the idles")
    parser.add_argument("--quick", action="store_true", help="1 edit per tool")
    options = parser.parse_args(argv)
    result = run(1 if options.quick else options.edits, options.jitter, options.seed)
    print("\n".join(report(result)), flush=True)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
