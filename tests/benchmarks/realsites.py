"""Save -> fresh page on three real projects that nobody here wrote: ``reloadmw serve`` (preload,
the default) beside each project's own reloader, in one run.

Projects (tests/support/realsites.py, a fresh copy in a temporary directory per tool): a Wagtail
site from ``wagtail start`` (about 1,300 modules; own reloader: ``manage.py runserver``), Flask's
tutorial, flaskr (``flask run --debug``), Pyramid's cookiecutter starter (``pserve --reload``).
The projects are what a new user has, so this shows what the synthetic benchmarks cannot: the
template and the restart on a large real app, its import side effects included.

Per project and tool, on a free port of 127.0.0.1: the page answers 200 (90 s at most), then
reloadmw's "preload template pid" line (60 s at most; 3 s for a peer, to settle). Per edit (6;
2 with --quick or RELOADMW_BENCH_QUICK=1): an idle of 2 s +- 0.5 s (seeded, the same for all),
``Site.save(n)``, then a GET at once and every 20 ms, a new connection each (10 s timeout), until
the page says "version n" (30 s at most). A tool that does not start is a failed row.

``python -m tests.benchmarks.realsites [--edits N] [--seed N] [--only PROJECT] [--quick]``; every
server stopped by its process group. The last line of stdout is the results as JSON:
``{"rows": [...], "idles": [s, ...], "seconds": whole run}``; a row has ``project``, ``tool``,
``edits``, ``failed`` (why it did not start, or null), ``note`` (e.g. no template in time),
``fresh`` (save -> end of the first fresh response, s, or null: never fresh), ``first`` (the
first request after each save answered 200 and fresh), ``first_status`` (its status, or the
error's name), ``refused`` (refused or reset connections), ``non200`` (other answers than 200),
``stale`` (200s with the old text), ``errors`` (other failures, by name), ``forked`` (reloadmw:
restarts forked from the template), ``median``, ``max`` (of ``fresh``; max null if an edit was
never fresh), ``log`` (the server's last lines where a tool failed, an edit never showed, or
reloadmw misbehaved),
``left_behind`` (reloadmw processes killed after the stop; none should be).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.benchmarks.restart import sweep
from tests.benchmarks.timing import seconds, server_tails
from tests.support import free_port, realsites
from tests.support.processes import stop_group

PROJECTS = ("wagtail", "flaskr", "pyramid")
OWN = {
    "wagtail": "manage.py runserver",
    "flaskr": "flask run --debug",
    "pyramid": "pserve --reload",
}
SERVE = "reloadmw serve"
TIMEOUT = 30.0  # the longest wait for a fresh page
IDLE, JITTER = 2.0, 1.0  # the idle before an edit: IDLE +- JITTER/2


def ask(port: int, path: str, timeout: float) -> tuple[int | str, str]:
    """(status, body), or (what failed, ""): "refused" for a refused or reset connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Connection": "close"})
        response = connection.getresponse()
        return response.status, response.read().decode(errors="replace")
    except (ConnectionRefusedError, ConnectionResetError):  # RemoteDisconnected is a reset
        return "refused", ""
    except (OSError, http.client.HTTPException) as error:
        return type(error).__name__, ""
    finally:
        connection.close()


def start(site: realsites.Site, tool: str, port: int, log: Any) -> subprocess.Popen[bytes]:
    if tool == SERVE:
        argv = [sys.executable, "-m", "reloadmw", "serve", site.target, "--port", str(port)]
    else:
        argv = [part.format(port=port) for part in site.own]
    return subprocess.Popen(
        argv, cwd=site.root, env=site.environment(), stdin=subprocess.DEVNULL, stdout=log,
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def ready(server: subprocess.Popen[bytes], test: Any, timeout: float) -> bool:
    """Poll ``test`` until true, the server exits (False) or ``timeout`` passes (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        if test():
            return True
        time.sleep(0.1)
    return False


def edit(site: realsites.Site, port: int, number: int, row: dict[str, Any]) -> None:
    """Save version ``number`` and GET the page until it shows it; counted in ``row``."""
    site.save(number)
    saved = time.monotonic()
    first, fresh = True, None
    while (left := TIMEOUT - (time.monotonic() - saved)) > 0:
        status, body = ask(port, site.path, min(10.0, max(left, 0.5)))
        now = time.monotonic() - saved
        new = status == 200 and site.expect(number) in body
        if first:
            row["first"].append(new)
            row["first_status"].append(status)
            first = False
        if new:
            fresh = now
            break
        if status == "refused":
            row["refused"] += 1
        elif isinstance(status, int) and status != 200:
            row["non200"] += 1
        elif status == 200:
            row["stale"] += 1
        else:
            row["errors"][status] += 1
        time.sleep(0.02)
    row["fresh"].append(fresh)


def measure(project: str, tool: str, idles: list[float]) -> dict[str, Any]:
    row: dict[str, Any] = {"project": project, "tool": tool, "edits": len(idles),
                           "failed": None, "fresh": [], "first": [], "first_status": [],
                           "refused": 0, "non200": 0, "stale": 0, "errors": Counter(),
                           "forked": 0, "note": "", "log": [], "left_behind": []}  # fmt: skip
    scratch = Path(tempfile.mkdtemp(prefix="reloadmw-realsites-"))
    path = scratch / "server.log"
    server = None

    def said() -> str:
        return path.read_text(errors="replace") if path.exists() else ""

    try:
        site, port = realsites.copy(project, scratch), free_port()
        with path.open("wb") as log:
            server = start(site, tool, port, log)
        if not ready(server, lambda: ask(port, site.path, 10)[0] == 200, 90):
            row["failed"] = "exited" if server.poll() is not None else "no 200 in 90 s"
        elif tool == SERVE:
            if not ready(server, lambda: "preload template pid" in said(), 60):
                row["note"] = "no preload template in 60 s; measured all the same"
        else:
            time.sleep(3)  # a peer settles: its reloader's first scan
        if row["failed"] is None:
            for number, idle in enumerate(idles, 1):
                time.sleep(idle)
                edit(site, port, number, row)
    except Exception as error:  # a failed tool is a row, not the end of the run
        row["failed"] = f"{type(error).__name__}: {error}"
    finally:
        try:
            if server is not None:
                stop_group(server)
            text = said()
            row["left_behind"] = sweep(text) if tool == SERVE else []
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    row["forked"] = text.count("(forked from the template")
    misbehaved = row["refused"] or row["non200"] or row["errors"] or not all(row["first"])
    if row["failed"] or None in row["fresh"] or (tool == SERVE and misbehaved):
        row["log"] = text.splitlines()[-60:]
    done = [s for s in row["fresh"] if s is not None]
    row["median"] = statistics.median(done) if done else None
    row["max"] = max(done) if done and len(done) == len(row["fresh"]) else None
    row["errors"] = dict(row["errors"])
    return row


def run(edits: int = 6, seed: int = 0, projects: tuple[str, ...] = PROJECTS) -> dict[str, Any]:
    draw = random.Random(seed)
    idles = [IDLE + draw.uniform(-JITTER / 2, JITTER / 2) for _ in range(edits)]
    started = time.monotonic()
    rows = [measure(project, tool, idles) for project in projects for tool in (SERVE, "own")]
    for row in rows:
        row["tool"] = SERVE if row["tool"] == SERVE else OWN[row["project"]]
    return {"rows": rows, "idles": idles, "seconds": time.monotonic() - started}


def report(result: dict[str, Any]) -> list[str]:
    lines = [
        "Save -> fresh page on real projects (a GET at once, then every 20 ms); idle before "
        f"each edit: {' '.join(f'{i:.2f}' for i in result['idles'])} s",
        f"{'project':8} {'tool':20} {'edits':>5} {'1st fresh+200':>13} {'median':>8} "
        f"{'max':>8} {'refused':>7} {'non-200':>7} {'stale':>5} {'forked':>6}",
    ]
    for row in result["rows"]:
        if row["failed"]:
            lines.append(f"{row['project']:8} {row['tool']:20} failed: {row['failed']}")
        else:
            first = f"{sum(row['first'])}/{row['edits']}"
            forked = f"{row['forked']}/{row['edits']}" if row["tool"] == SERVE else ""
            lines.append(
                f"{row['project']:8} {row['tool']:20} {row['edits']:>5} {first:>13} "
                f"{seconds(row['median']):>8} {seconds(row['max']):>8} {row['refused']:>7} "
                f"{row['non200']:>7} {row['stale']:>5} {forked:>6}"
            )
            lines.append(f"  each edit: {' '.join(seconds(s) for s in row['fresh'])}; first "
                         f"answers: {' '.join(map(str, row['first_status']))}")  # fmt: skip
        if row["note"]:
            lines.append(f"  {row['note']}")
        if row["errors"] or row["left_behind"]:
            lines.append(f"  errors: {row['errors']}; left behind, killed: {row['left_behind']}")
    lines += server_tails(result["rows"], lambda row: f"{row['project']}, {row['tool']}")
    lines.append(f"run: {result['seconds']:.0f} s")
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.realsites")
    parser.add_argument("--edits", type=int, default=6, help="edits per project and tool")
    parser.add_argument("--seed", type=int, default=0, help="of the idles")
    parser.add_argument("--only", choices=PROJECTS, help="this project alone")
    parser.add_argument("--quick", action="store_true", help="2 edits per tool")
    options = parser.parse_args(argv)
    quick = options.quick or os.environ.get("RELOADMW_BENCH_QUICK") == "1"
    projects = (options.only,) if options.only else PROJECTS
    result = run(2 if quick else options.edits, options.seed, projects)
    print("\n".join(report(result)), flush=True)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
