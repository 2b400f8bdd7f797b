"""Restart time and save -> fresh page: reloadmw serve with and without its preload template, and
Django's runserver, on two Django projects in one run.

Projects (temporary): a copy of docs/examples/djangosite (urls and views load on the first
request); a generated, valid Django project (admin, auth, sessions, ...) whose views import
many Django submodules and the installed ones of a few libraries (requests, jinja2, yaml, ...):
several hundred site-packages modules, counted and printed. Its wsgi.py imports the urls, so a
server process is ready once it imported them all, as runserver's (its checks import the urls).

Tools, on free ports of 127.0.0.1: ``reloadmw serve`` (preload, the default; the first edit
waits for its "preload template pid" line), ``reloadmw serve --no-preload``, ``manage.py
runserver`` (StatReloader). Per edit (6; with --quick 1, on the example project alone): an idle
of 1.5 s +- 0.5 s (seeded, the same for all), ``MESSAGE`` in mysite/views.py saved with a new
text, then a GET every 20 ms, a new connection each, until the page shows it. Recorded:
reloadmw's "restarted in X s" (from the old process reporting the change to the new one
listening, the app imported) and whether it forked from the template; save -> fresh, from just
after the write; refused connections, other errors. Ratios: preload / no-preload restart
medians (target <= 0.25), runserver / preload save -> fresh medians (target >= 3). ``python -m
tests.benchmarks.restart [--edits N] [--jitter S] [--seed N] [--quick]``: every wait bounded,
every server stopped by its process group; the last line of stdout is the results as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.util
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.benchmarks import djangosite
from tests.benchmarks.staleness import stop
from tests.benchmarks.timing import seconds
from tests.support import free_port

PROJECTS = ("example djangosite", "generated, many libraries")
TOOLS = ("reloadmw serve (preload)", "reloadmw serve --no-preload", "Django runserver")
TIMEOUT = 30.0  # the longest wait for anything
#: What the generated views import: these Django modules, and the installed ones of OTHERS.
DJANGO = """db.models contrib.admin contrib.admin.views.main contrib.auth.models contrib.auth.views
contrib.auth.forms contrib.sessions.models contrib.messages.views contrib.syndication.views forms
template views.generic test core.mail core.serializers.json db.migrations utils.feedgenerator"""
OTHERS = ("requests", "jinja2", "yaml", "dateutil.parser", "sqlparse", "pygments.lexers.python")
SETTINGS = """from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY, DEBUG, ALLOWED_HOSTS = "benchmark", True, ["127.0.0.1", "localhost"]
INSTALLED_APPS = [f"django.contrib.{app}" for app in
                  ("admin", "auth", "contenttypes", "sessions", "messages", "staticfiles")]
MIDDLEWARE = [f"django.{name}Middleware" for name in ("middleware.security.Security",
              "contrib.sessions.middleware.Session", "middleware.common.Common",
              "middleware.csrf.CsrfView", "contrib.auth.middleware.Authentication",
              "contrib.messages.middleware.Message")]
PROCESSORS = ["django.template.context_processors.request",
              "django.contrib.auth.context_processors.auth",
              "django.contrib.messages.context_processors.messages"]
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
              "OPTIONS": {"context_processors": PROCESSORS}}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
ROOT_URLCONF, STATIC_URL, USE_TZ = "mysite.urls", "static/", True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
"""
URLS = ("from django.contrib import admin\nfrom django.urls import path\n\nfrom . import views\n"
        '\nurlpatterns = [path("admin/", admin.site.urls), path("", views.index)]\n')  # fmt: skip
WSGI = ("import os\n\nfrom django.core.wsgi import get_wsgi_application\n\n"
        'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")\n'
        "application = get_wsgi_application()\nimport mysite.urls  # noqa: E402\n")  # fmt: skip
#: The modules the app has loaded once its urls are imported: all of them, site-packages' ones.
COUNT = ("import sys, mysite.wsgi, django.urls; django.urls.get_resolver().url_patterns; "
         "fs = [str(getattr(m, '__file__', '')) for m in sys.modules.values()]; print(len(fs), "
         "sum('site-packages' in f or 'dist-packages' in f for f in fs))")  # fmt: skip


def make_project(project: str) -> Path:
    root = djangosite.copy("reloadmw-restart-", "site")
    if project == PROJECTS[1]:
        names = [f"django.{name}" for name in DJANGO.split()]
        names += [name for name in OTHERS if importlib.util.find_spec(name.split(".")[0])]
        imports = "".join(f"import {name}  # noqa: F401\n" for name in names)
        (root / "mysite" / "views.py").write_text(
            f"{imports}from django.http import HttpResponse\n\nMESSAGE = 'text 0'\n\n\n"
            "def index(request):\n    return HttpResponse(f'<h1>{MESSAGE}</h1>')\n"
        )
        for name, text in (("settings", SETTINGS), ("urls", URLS), ("wsgi", WSGI)):
            (root / "mysite" / f"{name}.py").write_text(text)
    return root


def count_modules(root: Path) -> list[int]:
    """[all modules, site-packages modules] that the app loads with its urls."""
    env = djangosite.environment(root)
    output = subprocess.run([sys.executable, "-c", COUNT], cwd=root, env=env,
                            capture_output=True, text=True, timeout=120, check=True)  # fmt: skip
    return [int(n) for n in output.stdout.split()]


def ask(port: int) -> str:
    """The page's body, or "!" and what failed: refused, an error page, a timeout, a reset."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
    try:
        connection.request("GET", "/")
        response = connection.getresponse()
        body = response.read().decode(errors="replace")
        return body if response.status == 200 else f"!HTTP {response.status}"
    except ConnectionRefusedError:
        return "!refused"
    except (OSError, http.client.HTTPException) as error:
        return f"!{type(error).__name__}"
    finally:
        connection.close()


def wait_for(what: str, test: Callable[[], bool], timeout: float = 60.0) -> None:
    started = time.monotonic()
    while not test():
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"no {what} in {timeout:.0f} s")
        time.sleep(0.05)


def start(tool: str, root: Path, port: int, log: Any) -> subprocess.Popen[bytes]:
    serve = [sys.executable, "-m", "reloadmw", "serve", "--port", str(port),
             "mysite.wsgi:application"]  # fmt: skip
    runserver = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}"]
    argv = {TOOLS[0]: serve, TOOLS[1]: [*serve, "--no-preload"], TOOLS[2]: runserver}[tool]
    return subprocess.Popen(argv, cwd=root, stdout=log, stderr=subprocess.STDOUT,
                            env=djangosite.environment(root), start_new_session=True)  # fmt: skip


def sweep(said: str) -> list[int]:
    """Kill the server processes and templates that the supervisor left (none should be)."""
    left = []
    for pid in sorted({int(p) for p in re.findall(r"pid (\d+) (?:serving|has)", said)}):
        with contextlib.suppress(OSError):
            if b"reloadmw" in Path(f"/proc/{pid}/cmdline").read_bytes():
                os.killpg(pid, signal.SIGKILL)
                left.append(pid)
    return left


def restart_lines(path: Path) -> list[str]:
    return re.findall(r"(?m)^reloadmw: restarted in .*$", path.read_text(errors="replace"))


def measure(project: str, tool: str, idles: list[float]) -> dict[str, Any]:
    root, port = make_project(project), free_port()
    path = root.parent / "server.log"
    log = path.open("wb")
    server = start(tool, root, port, log)
    restarts: list[float | None] = []  # the restart line's seconds
    fresh: list[float | None] = []  # save -> fresh page
    forked: list[bool] = []
    failures: Counter[str] = Counter()  # "stale": the old text answered
    try:
        wait_for(f"answer from {tool}", lambda: not ask(port).startswith("!"))
        if tool == TOOLS[0]:
            wait_for("preload template", lambda: "preload template pid" in path.read_text())
        for number, idle in enumerate(idles, 1):
            time.sleep(idle)
            text, done = f"<h1>edit {number}</h1>", len(restart_lines(path))
            djangosite.save(root, text[4:-5])
            saved = time.monotonic()
            while text not in (body := ask(port)) and time.monotonic() - saved < TIMEOUT:
                failures[body[1:] if body.startswith("!") else "stale"] += 1
                time.sleep(0.02)
            fresh.append(time.monotonic() - saved if text in body else None)
            if tool != TOOLS[2]:
                deadline = time.monotonic() + 9  # for the restart line; without it: None
                while len(lines := restart_lines(path)) <= done and time.monotonic() < deadline:
                    time.sleep(0.05)
                line = [*lines[done:], ""][0]
                took = re.search(r"restarted in ([\d.]+)s", line)
                restarts.append(float(took[1]) if took else None)
                forked.append("(forked from the template" in line)
    finally:
        stop(server)
        log.close()
        said = path.read_text(errors="replace")
        left = sweep(said)
        shutil.rmtree(root.parent, ignore_errors=True)
    return {"project": project, "tool": tool, "edits": len(idles), "restart": restarts,
            "fresh": fresh, "forked": forked, "refused": failures.pop("refused", 0),
            "stale": failures.pop("stale", 0), "errors": dict(failures), "left_behind": left,
            "lines": [s for s in said.splitlines() if s.startswith("reloadmw:")]}  # fmt: skip


def spread(values: list[float | None]) -> tuple[float | None, float | None]:
    """Median and max; max is None where a value is missing (a restart line, a fresh page)."""
    done = [v for v in values if v is not None]
    median = statistics.median(done) if done else None
    return median, (max(done) if done and len(done) == len(values) else None)


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


def run(
    edits: int = 6, jitter: float = 1.0, seed: int = 0, projects: int = len(PROJECTS)
) -> dict[str, Any]:
    idles = djangosite.idles(edits, jitter, seed)
    rows, modules, ratios = [], {}, {}
    for project in list(PROJECTS)[:projects]:
        root = make_project(project)
        try:
            modules[project] = count_modules(root)
        finally:
            shutil.rmtree(root.parent, ignore_errors=True)
        mine = [measure(project, tool, idles) for tool in TOOLS]
        for row in mine:
            row["restart_median"], row["restart_max"] = spread(row["restart"])
            row["fresh_median"], row["fresh_max"] = spread(row["fresh"])
        preload, cold, runserver = mine
        ratios[project] = {
            "restart": ratio(preload["restart_median"], cold["restart_median"]),
            "fresh": ratio(runserver["fresh_median"], preload["fresh_median"]),
        }
        rows += mine
    return {"rows": rows, "modules": modules, "ratios": ratios, "idles": idles}


def chart(result: dict[str, Any], path: Path) -> None:
    """Bars per project and tool: the restart, and the wait from the save to the first fresh
    answer (medians)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in result["rows"] if r.get("fresh_median") is not None]
    labels = [f"{r['project']}\n{r['tool']}" for r in rows]
    figure, axes = plt.subplots(figsize=(9, 0.55 * len(rows) + 1.5))
    at = range(len(rows))
    axes.barh([n - 0.2 for n in at], [r["fresh_median"] for r in rows], height=0.4,
              label="save -> first fresh answer (the wait)")  # fmt: skip
    axes.barh([n + 0.2 for n in at], [r.get("restart_median") or 0.0 for r in rows],
              height=0.4, label="restart (change found -> new process ready)")  # fmt: skip
    axes.set_yticks(list(at), labels, fontsize=9)
    axes.invert_yaxis()
    axes.set_xlabel("seconds, median over the edits")
    axes.grid(True, axis="x", alpha=0.3)
    axes.legend(fontsize=9, loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def report(result: dict[str, Any]) -> list[str]:
    lines = [
        "Restart time and save -> fresh page (a GET every 20 ms); idle before each edit: "
        f"{' '.join(f'{i:.2f}' for i in result['idles'])} s",
        *(
            f"{project}: the app loads {every} modules, {site} of them from site-packages"
            for project, (every, site) in result["modules"].items()
        ),
        f"{'project':27} {'tool':28} {'restart median':>14} {'max':>7} {'save->fresh':>11} "
        f"{'max':>7} {'forked':>6} {'refused':>7} {'errors':>6}",
    ]
    for row in result["rows"]:
        errors = sum(row["errors"].values())
        forked = f"{sum(row['forked'])}/{row['edits']}" if row["tool"] == TOOLS[0] else ""
        lines.append(
            f"{row['project']:27} {row['tool']:28} {seconds(row['restart_median']):>14} "
            f"{seconds(row['restart_max']):>7} {seconds(row['fresh_median']):>11} "
            f"{seconds(row['fresh_max']):>7} {forked:>6} {row['refused']:>7} {errors:>6}"
        )
        each = " ".join(seconds(s) for s in row["fresh"])
        if row["tool"] != TOOLS[2]:
            each = f"restart {' '.join(seconds(s) for s in row['restart'])}; save->fresh {each}"
        lines.append(f"  each edit: {each}")
        if row["errors"] or row["left_behind"]:
            lines.append(f"  errors: {row['errors']}; left behind, killed: {row['left_behind']}")
    for project, ratios in result["ratios"].items():
        restart, fresh = (f"{r:.2f}" if r else "-" for r in ratios.values())
        lines.append(f"{project}: restart, preload / no-preload: {restart} (target <= 0.25); "
                     f"save->fresh, runserver / preload: {fresh} (target >= 3)")  # fmt: skip
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.restart")
    parser.add_argument("--edits", type=int, default=6, help="edits per project and tool")
    parser.add_argument("--jitter", type=float, default=1.0, help="idle spread (s), 0: 1.5 s")
    parser.add_argument("--seed", type=int, default=0, help="of the idles")
    parser.add_argument("--quick", action="store_true", help="1 edit, the example project only")
    options = parser.parse_args(argv)
    if options.quick:
        result = run(1, options.jitter, options.seed, projects=1)
    else:
        result = run(options.edits, options.jitter, options.seed)
    print("\n".join(report(result)), flush=True)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
