"""The first page after a save: is it fresh? reloadmw beside the peers, on one Django project.

A Django project of three files (settings, urls, one view) runs under each
server. Per trial: the page is fresh, the developer takes 1.2 s to edit, the
view's text is saved, and the page is requested once ``delay`` seconds later,
then every 20 ms until the new text answers. In the "busy" column another
request (an asset, another tab) comes 0.05 s before the save, and the page
0.1 s after it. Counted: whether that first
request was fresh, the stale answers, the refused or reset connections, and
the time from the save to the first fresh answer.

``python -m tests.benchmarks.staleness [--trials N] [--quick]``; bounded in time,
every server on 127.0.0.1 and stopped by its pid.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.processes import stop_group

DELAYS = (0.1, 0.3, 1.0, 3.0)
#: The "busy" trials: a request this long before the save, and the page 0.1 s after it.
BUSY = 0.05
FILES = {
    "manage.py": (
        "import os, sys\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings')\n"
        "from django.core.management import execute_from_command_line\n"
        "execute_from_command_line(sys.argv)\n"
    ),
    "mysite/__init__.py": "",
    "mysite/settings.py": (
        "SECRET_KEY = 'benchmark'\nDEBUG = True\nALLOWED_HOSTS = ['*']\n"
        "ROOT_URLCONF = 'mysite.urls'\nINSTALLED_APPS = []\nMIDDLEWARE = []\n"
        "DATABASES = {}\nUSE_TZ = True\n"
    ),
    "mysite/urls.py": "from django.urls import path\nfrom . import views\n"
    "urlpatterns = [path('', views.index)]\n",
    "mysite/views.py": "from django.http import HttpResponse\n\nMESSAGE = 'text 0'\n\n\n"
    "def index(request):\n    return HttpResponse(MESSAGE)\n",
    "mysite/wsgi.py": "import os\n"
    "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings')\n"
    "from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n",
    "site.wsgi": "import os, sys\nsys.path.insert(0, os.path.dirname(__file__))\n"
    "from reloadmw import ReloadMiddleware\nfrom mysite.wsgi import application\n"
    "application = ReloadMiddleware(application)\n",
    # The same, as a module: for gunicorn and uWSGI.
    "wrapped.py": "from reloadmw import ReloadMiddleware\nfrom mysite.wsgi import application\n"
    "application = ReloadMiddleware(application)\n",
}


def make_project() -> Path:
    root = Path(tempfile.mkdtemp(prefix="reloadmw-stale-"))
    root.chmod(0o755)
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return root


def save(root: Path, text: str) -> None:
    views = root / "mysite" / "views.py"
    before = views.stat().st_mtime_ns
    views.write_text(views.read_text().split("MESSAGE = ")[0] + f"MESSAGE = {text!r}\n\n\n"
                     "def index(request):\n    return HttpResponse(MESSAGE)\n")  # fmt: skip
    if views.stat().st_mtime_ns <= before:  # an edit always moves the mtime
        os.utime(views, ns=(before + 1_000_000, before + 1_000_000))


def ask(port: int) -> str | None:
    """The page's text, or None for a refused or reset connection (or an error page)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        connection.request("GET", "/")
        response = connection.getresponse()
        body = response.read().decode(errors="replace")
        body = body.split("<script", 1)[0]  # (reloadmw serve's live-reload tag follows it)
        return body if response.status == 200 else None
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def wait_fresh(port: int, text: str, timeout: float = 30.0) -> float | None:
    """Seconds until ``text`` answers (polling every 20 ms), or None."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if ask(port) == text:
            return time.monotonic() - started
        time.sleep(0.02)
    return None


def trial(root: Path, port: int, number: int, delay: float, busy: bool) -> dict[str, object]:
    text = f"text {number}"
    wait_fresh(port, f"text {number - 1}")
    time.sleep(1.2)  # the developer edits
    if busy:
        ask(port)  # an asset or another tab, just before the save
        time.sleep(BUSY)
    save(root, text)
    saved = time.monotonic()
    time.sleep(delay)
    asked = time.monotonic()
    first = ask(port)
    took = time.monotonic() - asked
    stale = int(first is not None and first != text)
    refused = int(first is None)
    while first != text and time.monotonic() - saved < 20:
        time.sleep(0.02)
        first = ask(port)
        stale += first is not None and first != text
        refused += first is None
    return {
        "fresh": stale + refused == 0,
        "stale": stale,
        "refused": refused,
        "seconds": time.monotonic() - saved if first == text else None,
        "took": took,
    }


def servers(root: Path, port: int) -> dict[str, Callable[[], object]]:
    """How to start each contender on ``port``: a Popen, or a tests Server (Apache)."""
    py = sys.executable

    def popen(*argv: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            argv, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"},
            start_new_session=True,  # stopped as a group: no worker outlives its master
        )  # fmt: skip

    def apache(flavour: str) -> object:
        from tests.servers.apache import Apache, Express, express_venv, shared_site

        django = Path(shared_site()).parent / "django"
        if not django.exists():
            subprocess.run([py, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                            str(django), "Django", "asgiref", "sqlparse"], check=True)  # fmt: skip
            for path in [django, *django.rglob("*")]:
                path.chmod(0o755 if path.is_dir() else 0o644)
        (root / "site.wsgi").write_text(f"import sys\nsys.path.append({str(django)!r})\n"
                                        + FILES["site.wsgi"])  # fmt: skip
        if flavour == "express":
            express_venv()
            return Express(root, "site.wsgi", root=root / "express", port=port)
        return Apache(root, "site.wsgi", root=root / "httpd", port=port)

    wsgi = "mysite.wsgi:application"
    bind = f"127.0.0.1:{port}"

    def uwsgi(*argv: str) -> subprocess.Popen[bytes]:
        from tests.servers.test_uwsgi import uwsgi_binary

        return popen(uwsgi_binary(), "--http-socket", bind, "--master", *argv)

    return {
        "reloadmw serve (wsgiref)": lambda: popen(py, "-m", "reloadmw", "serve", wsgi,
                                                  "--port", str(port)),
        "reloadmw serve (waitress)": lambda: popen(py, "-m", "reloadmw", "serve", wsgi,
                                                   "--port", str(port), "--server", "waitress"),
        "mod_wsgi daemon, ReloadMiddleware": lambda: apache("debian"),
        "mod_wsgi-express, ReloadMiddleware": lambda: apache("express"),
        "gunicorn, ReloadMiddleware (1 sync)": lambda: popen(
            py, "-m", "gunicorn", "--bind", bind, "wrapped:application"),
        "gunicorn, ReloadMiddleware (4 gthread)": lambda: popen(
            py, "-m", "gunicorn", "--workers", "4", "--worker-class", "gthread", "--bind", bind,
            "wrapped:application"),
        "uWSGI, ReloadMiddleware (4, lazy-apps)": lambda: uwsgi(
            "--processes", "4", "--lazy-apps", "--module", "wrapped:application"),
        "uWSGI, ReloadMiddleware (2)": lambda: uwsgi(
            "--processes", "2", "--module", "wrapped:application"),
        "Django runserver": lambda: popen(py, "manage.py", "runserver", f"127.0.0.1:{port}"),
        "werkzeug reloader": lambda: popen(
            py, "-c", "from werkzeug.serving import run_simple; from mysite.wsgi import "
            f"application; run_simple('127.0.0.1', {port}, application, use_reloader=True, "
            "reloader_type='stat')"),
        "gunicorn --reload": lambda: popen(py, "-m", "gunicorn", "--reload", "--bind", bind, wsgi),
        "uWSGI --py-autoreload 1": lambda: uwsgi(
            "--processes", "1", "--py-autoreload", "1", "--module", wsgi),
    }  # fmt: skip


def stop(server: object) -> None:
    if isinstance(server, subprocess.Popen):
        stop_group(server)  # the group led by the server's own pid
    else:
        server.stop()  # type: ignore[attr-defined]


def run(
    trials: int = 3, delays: tuple[float, ...] = DELAYS, only: str = "", busy: bool = True
) -> dict[str, object]:
    from tests.support import free_port

    rows = []
    for name in servers(Path(), 0):
        if only and only not in name:
            continue
        root, port = make_project(), free_port()
        server = servers(root, port)[name]()
        if hasattr(server, "start"):
            server.start()
        try:
            number = 0
            if wait_fresh(port, "text 0", 60) is None:
                raise RuntimeError(f"{name} did not start")
            plans = [(delay, False) for delay in delays] + ([(0.1, True)] if busy else [])
            for delay, before in plans:
                results = []
                for _ in range(trials):
                    number += 1
                    results.append(trial(root, port, number, delay, before))
                seconds = [r["seconds"] for r in results if r["seconds"] is not None]
                rows.append({
                    "server": name, "delay": delay, "busy": before, "trials": trials,
                    "fresh": sum(bool(r["fresh"]) for r in results),
                    "stale": sum(int(r["stale"]) for r in results),  # type: ignore[call-overload]
                    "refused": sum(int(r["refused"]) for r in results),  # type: ignore[call-overload]
                    "seconds": statistics.median(seconds) if seconds else None,
                    "took": statistics.median(float(r["took"]) for r in results),  # type: ignore[arg-type]
                })  # fmt: skip
        finally:
            stop(server)
            shutil.rmtree(root, ignore_errors=True)
    return {"rows": rows}


def report(result: dict[str, object]) -> list[str]:
    lines = [
        "First page after a save (Django project of 3 files; one request DELAY s after the "
        f"save, then one every 20 ms; busy: another request {BUSY} s before the save)",
        f"{'server':38} {'delay':>10} {'first fresh':>11} {'stale':>5} {'refused':>7} "
        f"{'save->fresh':>11} {'1st took':>8}",
    ]
    for row in result["rows"]:  # type: ignore[attr-defined]
        seconds = f"{row['seconds']:.2f} s" if row["seconds"] is not None else "never"
        lines.append(
            f"{row['server']:38} {_when(row):>10} {row['fresh']:>5}/{row['trials']:<5} "
            f"{row['stale']:>5} {row['refused']:>7} {seconds:>11} {row['took']:>6.2f} s"
        )
    return lines


def _when(row: dict[str, object]) -> str:
    return f"{row['delay']} busy" if row.get("busy") else str(row["delay"])


def chart(result: dict[str, object], path: Path) -> None:
    """Bars per server and delay: the share of first requests that were fresh (left), and
    the wait from the save to the first fresh answer, median (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["rows"]  # type: ignore[index]
    names = list(dict.fromkeys(row["server"] for row in rows))  # type: ignore[attr-defined]
    columns = list(dict.fromkeys(_when(row) for row in rows))  # type: ignore[arg-type]
    figure, (share, wait) = plt.subplots(1, 2, figsize=(13, 6.5), sharey=True)
    width = 0.8 / len(columns)

    def value(name: str, column: str, of) -> float:  # type: ignore[no-untyped-def]
        found = [r for r in rows if r["server"] == name and _when(r) == column]  # type: ignore[attr-defined, arg-type]
        return of(found[0]) if found else 0.0

    for index, column in enumerate(columns):
        at = [n + index * width for n in range(len(names))]
        delay, _, busy = column.partition(" ")
        label = f"request {delay} s after the save" + (
            f", another {BUSY} s before it" if busy else ""
        )
        share.barh(at, [value(n, column, lambda r: r["fresh"] / r["trials"] * 100)
                        for n in names], height=width, label=label)  # fmt: skip
        wait.barh(at, [value(n, column, lambda r: r["seconds"] or 0.0) for n in names],
                  height=width)  # fmt: skip
    share.set_yticks([n + 0.4 - width / 2 for n in range(len(names))], names, fontsize=10)
    share.invert_yaxis()
    share.set_xlabel("first request after the save answered by the new code (%)", fontsize=10)
    share.set_xlim(0, 100)
    wait.set_xlabel("save -> first fresh answer, median (s; the delay included)", fontsize=10)
    for axes in (share, wait):
        axes.grid(True, axis="x", alpha=0.3)
    figure.legend(fontsize=10, loc="lower center", ncol=3)
    figure.tight_layout(rect=(0, 0.07, 1, 1))
    figure.savefig(path, dpi=100)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.staleness")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one trial, delays 0.1 and 1.0")
    parser.add_argument("--only", default="", help="only the servers whose name contains this")
    parser.add_argument("--no-busy", dest="busy", action="store_false",
                        help="without the busy column")  # fmt: skip
    parser.add_argument("--out", type=Path, help="write staleness.txt and staleness.png here")
    options = parser.parse_args(argv)
    delays = (0.1, 1.0) if options.quick else DELAYS
    result = run(1 if options.quick else options.trials, delays, options.only, options.busy)
    lines = report(result)
    print("\n".join(lines), flush=True)
    if options.out:
        options.out.mkdir(parents=True, exist_ok=True)
        (options.out / "staleness.txt").write_text("\n".join(lines) + "\n")
        chart(result, options.out / "staleness.png")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
