"""A page with assets, loaded right after an edit, under gunicorn with 4 sync workers: reloadmw's
middleware beside ``gunicorn --reload``, in one run.

Project (temporary): a copy of docs/examples/djangosite (one view at /, its stylesheet
/static/site.css, served by Django's StaticFilesHandler under DEBUG) with 8 more static files
(asset0.css .. asset3.css, asset4.js .. asset7.js, 4 KB each, referenced by nothing: they are
requested directly) and ``wrapped.py``, the application in reloadmw's middleware (defaults; the
hook found is gunicorn's). The servers import reloadmw from this working copy (PYTHONPATH).

Tools, on a free port of 127.0.0.1, each from a fresh copy:
``gunicorn --workers 4 --bind 127.0.0.1:PORT wrapped:application`` and
``gunicorn --workers 4 --reload --bind 127.0.0.1:PORT mysite.wsgi:application``. A tool is
ready once / answers 200 and its master has its 4 workers (60 s at most). Per edit (6; 2 with
--quick or RELOADMW_BENCH_QUICK=1): the idle of djangosite.idles(edits, 1.0, seed 0), then
``djangosite.save(root, "version n")`` (before the idle, the page is loaded 4 times, so that
every worker has served / and imported the view, as after a while of browsing), then at once
a page load: GET / then the 9 assets,
submitted in that order to 6 threads (6 connections at a time, like a browser; a new connection
per request, 30 s timeout each), again every 50 ms after a load ends until the load's / says
"<h1>version n</h1>" (30 s at most). Recorded per edit: whether the first load was fresh, its
10 answers, save -> end of the first fresh load (all 10 answers in), which process answered
its / (the pid the page shows: a fresh interpreter, a worker started after the save, or one
from before it, e.g. one that had not yet imported the view), and over the edit the
refused or reset connections, the answers other than 200, other failures (timeouts; an asset
whose body is not the file's), the stale loads. A background thread samples, every 50 ms over
the tool's whole run, the total VmRSS of the master and its descendants, plus any process of
the copy (its working directory) with RELOADMW_FRESH= in its environment, and their
descendants (reloadmw's fresh interpreter: a worker's child, or adopted by init once it forked
off). VmRSS is summed as the brief asks: pages that forked workers share count once per process.
Fresh interpreters are counted by distinct pids seen with RELOADMW_FRESH=; a shared one forks
once at its start (``reloadmw.fresh.child.serve``), so its two halves may be two pids: the rows
also give the distinct interpreters (one per socket address, one per per-request process).
After the stop, the processes of the copy still alive are waited for (a shared interpreter ends
5 s after its last request, in a session of its own), 10 s at most, then killed and listed;
the files reloadmw left in the temporary directory under the master's pid are listed, removed.

``python -m tests.benchmarks.assets [--edits N] [--seed N] [--quick]``; every server stopped by
its process group. The last line of stdout is the results as JSON: ``{"rows": [...], "idles":
[s, ...], "seconds": whole run}``.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.benchmarks import djangosite
from tests.benchmarks.timing import seconds, server_tails
from tests.support import free_port
from tests.support.processes import stop_group

TOOLS = ("reloadmw (gunicorn, 4 sync workers)", "gunicorn --reload (4 sync workers)")
WORKERS = 4
CONNECTIONS = 6  # at a time, as a browser opens them to one host
ASSETS = tuple(f"asset{i}.{'css' if i < 4 else 'js'}" for i in range(8))
PATHS = ("/", "/static/site.css", *(f"/static/{name}" for name in ASSETS))
REQUEST_TIMEOUT = 30.0
TIMEOUT = 30.0  # the longest wait for a fresh page after a save
START_TIMEOUT = 60.0
LINGER = 10.0  # the longest wait for the copy's processes to end after the stop
EVERY = 0.05  # between two page loads, and two samples of the memory
REPO = Path(__file__).resolve().parents[2]
WRAPPED = (
    "from mysite.wsgi import application as inner\n"
    "from reloadmw import ReloadMiddleware\n\n"
    "application = ReloadMiddleware(inner)\n"
)


def asset(name: str, size: int = 4096) -> bytes:
    """A few KB of CSS or JavaScript, the same in every run."""
    stem, kind = name.split(".")
    line = "var {0}_{1} = {1};\n" if kind == "js" else ".{0}-{1} {{ margin: {1}px; }}\n"
    text, n = f"/* {name} */\n", 0
    while len(text) < size:
        text += line.format(stem, n)
        n += 1
    return text.encode()


def make_project() -> tuple[Path, dict[str, bytes]]:
    """A copy of the example project with the assets and wrapped.py; the assets' bodies."""
    root = djangosite.copy("reloadmw-assets-")
    static = root / "mysite" / "static"
    expected = {"/static/site.css": (static / "site.css").read_bytes()}
    for name in ASSETS:
        (static / name).write_bytes(data := asset(name))
        expected[f"/static/{name}"] = data
    (root / "wrapped.py").write_text(WRAPPED)
    return root, expected


def environment(root: Path) -> dict[str, str]:
    """djangosite's, with this working copy's reloadmw importable before any installed one."""
    env = djangosite.environment(root)
    env["PYTHONPATH"] = os.pathsep.join((str(root), str(REPO)))
    return env


def command(tool: str, port: int) -> list[str]:
    gunicorn = [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS)]
    bind = ["--bind", f"127.0.0.1:{port}"]
    if tool == TOOLS[0]:
        return [*gunicorn, *bind, "wrapped:application"]
    return [*gunicorn, "--reload", *bind, "mysite.wsgi:application"]


def fetch(port: int, path: str) -> tuple[int | str, bytes]:
    """(status, body), or (what failed, b""): "refused" for a refused or reset connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request("GET", path, headers={"Connection": "close"})
        response = connection.getresponse()
        return response.status, response.read()
    except (ConnectionRefusedError, ConnectionResetError):  # RemoteDisconnected is a reset
        return "refused", b""
    except (OSError, http.client.HTTPException) as error:
        return type(error).__name__, b""
    finally:
        connection.close()


def load(pool: ThreadPoolExecutor, port: int) -> list[tuple[int | str, bytes]]:
    """One page load: / first, then the assets, on ``CONNECTIONS`` connections at a time."""
    futures = [pool.submit(fetch, port, path) for path in PATHS]
    return [future.result() for future in futures]


def browse(pool: ThreadPoolExecutor, port: int, loads: int = 4) -> None:
    """A developer's browsing before an edit: the page loaded a few times, so that every
    worker has served / (Django imports the view at its first request)."""
    for _ in range(loads):
        load(pool, port)


def summary(statuses: list[int | str]) -> str:
    """10x200, or 9x200+1xrefused."""
    return "+".join(f"{n}x{status}" for status, n in Counter(map(str, statuses)).items())


# The processes: /proc, read directly.


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError:
        return b""


def processes() -> dict[int, tuple[int, int, str]]:
    """pid -> (ppid, start time in ticks, state) of every process."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _read(f"/proc/{entry}/stat")
            if stat:
                fields = stat[stat.rfind(b")") + 2 :].split()
                found[int(entry)] = (int(fields[1]), int(fields[19]), fields[0].decode())
    return found


def descendants(roots: set[int], table: dict[int, tuple[int, int, str]]) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    seen, todo = set(), [pid for pid in roots if pid in table]
    while todo:
        pid = todo.pop()
        if pid not in seen:
            seen.add(pid)
            todo += children.get(pid, [])
    return seen


def cwd_of(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return ""


def rss_kb(pid: int) -> int:
    for line in _read(f"/proc/{pid}/status").splitlines():
        if line.startswith(b"VmRSS:"):
            return int(line.split()[1])
    return 0


class Sampler(threading.Thread):
    """Every ``EVERY`` seconds: the total VmRSS of the server's processes, and the fresh
    interpreters of reloadmw (RELOADMW_FRESH= in the environment, working in ``root``)."""

    def __init__(self, master: int, root: Path) -> None:
        super().__init__(daemon=True)
        self.master, self.root = master, os.path.realpath(root)
        self.halt = threading.Event()
        self.peak_kb, self.peak_processes, self.samples = 0, 0, 0
        #: pid -> (first seen, monotonic), kind ("shared", "request"), its socket or pid)
        self.fresh: dict[int, tuple[float, str, str]] = {}
        self.preflights: set[int] = set()
        self.seen: dict[int, float] = {}  # every pid of the tree: when first seen
        self._negative: Counter[tuple[int, int]] = Counter()  # not fresh, how many samples
        self.error = ""

    def run(self) -> None:
        try:
            while True:
                self.sample()
                if self.halt.wait(EVERY):
                    return
        except Exception as error:  # the sampling stops; the figures say so
            self.error = f"{type(error).__name__}: {error}"

    def stop(self) -> None:
        self.halt.set()
        self.join(5)

    def classify(self, pid: int, start: int) -> None:
        """Note a fresh interpreter (or a pre-flight) of the copy. A process is looked at
        until it was not one on two samples: one seen between its fork and its exec has its
        parent's environment for a moment."""
        if pid in self.fresh or pid in self.preflights or self._negative[pid, start] >= 2:
            return
        names = dict(
            item.split(b"=", 1)
            for item in _read(f"/proc/{pid}/environ").split(b"\0")
            if b"=" in item
        )
        kind = names.get(b"RELOADMW_FRESH")
        if (kind or names.get(b"RELOADMW_PREFLIGHT")) and cwd_of(pid) == self.root:
            if kind is None:
                self.preflights.add(pid)
                return
            arguments = _read(f"/proc/{pid}/cmdline").split(b"\0")
            where = arguments[-2].decode(errors="replace") if kind == b"shared" else str(pid)
            self.fresh[pid] = (time.monotonic(), kind.decode(errors="replace"), where)
        else:
            self._negative[pid, start] += 1

    def sample(self) -> None:
        table = processes()
        for pid, (_, start, state) in table.items():
            if state != "Z":
                self.classify(pid, start)
        living = {pid for pid in self.fresh if pid in table}
        tree = descendants({self.master, *living}, table)
        total = sum(rss_kb(pid) for pid in tree)
        now = time.monotonic()
        for pid in tree:
            self.seen.setdefault(pid, now)
        self.samples += 1
        if total > self.peak_kb:
            self.peak_kb, self.peak_processes = total, len(tree)


def ours(root: Path) -> list[int]:
    """The living processes that work in the copy (the server's, reloadmw's interpreters)."""
    where = os.path.realpath(root)
    table = processes()
    return [pid for pid, (_, _, state) in table.items() if state != "Z" and cwd_of(pid) == where]


def ready(server: subprocess.Popen[bytes], port: int) -> str | None:
    """None once / answers 200 and the master has its workers; else why not."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            return f"exited with {server.returncode}"
        status, _ = fetch(port, "/")
        workers = [p for p, (ppid, _, _) in processes().items() if ppid == server.pid]
        if status == 200 and len(workers) >= WORKERS:
            return None
        time.sleep(0.1)
    return f"not ready (a 200 and {WORKERS} workers) in {START_TIMEOUT:.0f} s"


def edit(
    root: Path,
    port: int,
    number: int,
    pool: ThreadPoolExecutor,
    expected: dict[str, bytes],
    row: dict[str, Any],
) -> None:
    """Save version ``number``, then load the page until its / shows it; counted in ``row``."""
    text = f"<h1>version {number}</h1>".encode()
    djangosite.save(root, f"version {number}")
    saved = time.monotonic()
    row["saves"].append(saved)
    fresh, first = None, True
    while True:
        answers = load(pool, port)
        took = time.monotonic() - saved
        page_status, page = answers[0]
        new = page_status == 200 and text in page
        for path, (status, body) in zip(PATHS, answers, strict=True):
            if status == "refused":
                row["refused"] += 1
            elif isinstance(status, str):
                row["errors"][status] += 1
            elif status != 200:
                row["non200"] += 1
            elif path != "/" and body != expected[path]:
                row["errors"]["wrong asset body"] += 1
        if first:
            row["first"].append(new)
            row["first_status"].append(summary([status for status, _ in answers]))
            first = False
        if new:
            fresh = took
            served = re.search(rb"Served by process (\d+)", page)
            row["served_by"].append(int(served[1]) if served else None)
            break
        row["stale"] += page_status == 200
        if time.monotonic() - saved > TIMEOUT:
            break
        time.sleep(EVERY)
    row["fresh"].append(fresh)
    if fresh is None:
        row["served_by"].append(None)


def reloadmw_origin(root: Path) -> str:
    """Where the servers' interpreter imports reloadmw from."""
    done = subprocess.run(
        [sys.executable, "-c", "import reloadmw; print(reloadmw.__file__)"],
        cwd=root, env=environment(root), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return done.stdout.strip() or done.stderr.strip()[-200:]


def measure(tool: str, idles: list[float]) -> dict[str, Any]:
    row: dict[str, Any] = {"tool": tool, "edits": len(idles), "failed": None, "fresh": [],
                           "first": [], "first_status": [], "refused": 0, "non200": 0,
                           "stale": 0, "errors": Counter(), "saves": [], "peak_rss_mb": None,
                           "peak_processes": 0, "samples": 0, "fresh_pids": [],
                           "fresh_interpreters": [], "preflights": 0, "left_behind": [],
                           "server_files_left": [], "served_by": [], "linger_s": None, "log": [],
                           "reloadmw": ""}  # fmt: skip
    root = None
    server = sampler = None
    pool = ThreadPoolExecutor(max_workers=CONNECTIONS)
    began = time.time()
    try:
        root, expected = make_project()
        port, log_path = free_port(), root.parent / "server.log"
        row["reloadmw"] = reloadmw_origin(root)
        with log_path.open("wb") as log:
            server = subprocess.Popen(
                command(tool, port), cwd=root, env=environment(root), stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        sampler = Sampler(server.pid, root)
        sampler.start()
        row["failed"] = ready(server, port)
        if row["failed"] is None:
            for number, idle in enumerate(idles, 1):
                browse(pool, port)  # every worker has the view loaded, as after a while
                time.sleep(idle)
                edit(root, port, number, pool, expected, row)
    except Exception as error:  # a failed tool is a row, not the end of the run
        row["failed"] = f"{type(error).__name__}: {error}"
    finally:
        pool.shutdown(wait=True)
        if server is not None:
            stop_group(server)
        if sampler is not None:
            sampler.stop()
            row["peak_rss_mb"] = sampler.peak_kb / 1024
            row["peak_processes"], row["samples"] = sampler.peak_processes, sampler.samples
            row["preflights"] = len(sampler.preflights)
            attribute(row, sampler)
            row["served"] = [who(pid, at, sampler) for pid, at in
                             zip(row["served_by"], row["saves"], strict=False)]  # fmt: skip
            if sampler.error:
                row["errors"][f"sampler: {sampler.error}"] += 1
        if root is not None:
            row["left_behind"], row["linger_s"] = sweep(root)
            if server is not None:
                row["server_files_left"] = tidy(server.pid, began)
            log_text = (root.parent / "server.log").read_text(errors="replace")
            if row["failed"] or None in row["fresh"] or row["errors"] or row["left_behind"]:
                row["log"] = log_text.splitlines()[-40:]
            row["log_lines"] = len(log_text.splitlines())
            shutil.rmtree(root.parent, ignore_errors=True)
    done = [s for s in row["fresh"] if s is not None]
    row["median"] = statistics.median(done) if done else None
    row["max"] = max(done) if done and len(done) == len(row["fresh"]) else None
    row["errors"] = dict(row["errors"])
    return row


def attribute(row: dict[str, Any], sampler: Sampler) -> None:
    """Per edit: the fresh interpreters' pids first seen between its save and the next one,
    and the distinct interpreters among them (a socket address, or a per-request pid)."""
    bounds = [*row["saves"], float("inf")]
    for start, end in itertools.pairwise(bounds):
        seen = [(where, kind) for at, kind, where in sampler.fresh.values() if start <= at < end]
        row["fresh_pids"].append(len(seen))
        row["fresh_interpreters"].append(len(set(seen)))
    row["fresh_before_edits"] = sum(
        1 for at, _, _ in sampler.fresh.values() if not row["saves"] or at < row["saves"][0]
    )


def tidy(master: int, since: float) -> list[str]:
    """Remove what reloadmw left in the temporary directory under the master's pid (its
    siblings' state, the pre-flight's, the fresh interpreters' sockets), made since ``since``
    (time.time()); the names, a directory's with its entries."""
    left = []
    for path in sorted(Path(tempfile.gettempdir()).glob(f"reloadmw-{os.getuid()}-{master}.*")):
        with contextlib.suppress(OSError):
            if path.lstat().st_mtime < since - 1:
                continue  # an older server's, with the same pid
            if path.is_dir() and not path.is_symlink():
                left.append(f"{path.name}/ {sorted(entry.name for entry in path.iterdir())}")
                shutil.rmtree(path, ignore_errors=True)
            else:
                left.append(path.name)
                path.unlink()
    return left


def who(pid: int | None, saved: float, sampler: Sampler) -> str:
    """Which process answered an edit's first fresh /: reloadmw's fresh interpreter, a worker
    that started after the save, or one from before it (which had not run the old view, or
    had been told to reload), by the pid the page shows."""
    if pid is None:
        return "-"
    if pid in sampler.fresh:
        return "fresh interpreter"
    if pid not in sampler.seen:
        return "unseen pid"
    return "new worker" if sampler.seen[pid] > saved else "worker from before"


def sweep(root: Path) -> tuple[list[int], float]:
    """Wait for the copy's processes to end (LINGER s at most), then kill those left; the
    killed, and how long the wait took."""
    started = time.monotonic()
    while (left := ours(root)) and time.monotonic() - started < LINGER:
        time.sleep(0.1)
    for pid in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return left, time.monotonic() - started


def run(edits: int = 6, seed: int = 0) -> dict[str, Any]:
    idles = djangosite.idles(edits, 1.0, seed)
    started = time.monotonic()
    rows = [measure(tool, idles) for tool in TOOLS]
    for row in rows:
        del row["saves"]  # monotonic instants: nothing to read in them
    return {"rows": rows, "idles": idles, "seconds": time.monotonic() - started}


def report(result: dict[str, Any]) -> list[str]:
    lines = [
        f"A page (/ and {len(PATHS) - 1} assets, {CONNECTIONS} connections at a time) loaded "
        "right after an edit, again every 50 ms until fresh; idle before each edit: "
        f"{' '.join(f'{i:.2f}' for i in result['idles'])} s",
        f"{'tool':36} {'edits':>5} {'1st fresh':>9} {'median':>7} {'max':>7} {'refused':>7} "
        f"{'non-200':>7} {'peak RSS MB':>11} {'fresh interp./edit':>18}",
    ]
    for row in result["rows"]:
        if row["failed"]:
            lines.append(f"{row['tool']:36} failed: {row['failed']}")
        else:
            first = f"{sum(row['first'])}/{row['edits']}"
            per_edit = ""
            if row["tool"] == TOOLS[0] and row["fresh_pids"]:
                per_edit = f"{statistics.mean(row['fresh_pids']):.2f}"
            peak = f"{row['peak_rss_mb']:.0f}" if row["peak_rss_mb"] is not None else "-"
            lines.append(
                f"{row['tool']:36} {row['edits']:>5} {first:>9} {seconds(row['median']):>7} "
                f"{seconds(row['max']):>7} {row['refused']:>7} {row['non200']:>7} {peak:>11} "
                f"{per_edit:>18}"
            )
            lines.append(f"  save -> fresh page loaded, each edit: "
                         f"{' '.join(seconds(s) for s in row['fresh'])}")  # fmt: skip
            lines.append(f"  first load's answers: {' '.join(row['first_status'])}")
            lines.append(f"  first fresh / answered by: {', '.join(row.get('served', []))}")
            lines.append(
                f"  stale loads: {row['stale']}; peak RSS over {row['peak_processes']} "
                f"processes; {row['samples']} samples; after the stop, the copy's processes "
                f"ended in {seconds(row['linger_s'])}"
            )
            if row["tool"] == TOOLS[0]:
                lines.append(
                    f"  fresh interpreter pids per edit: {row['fresh_pids']} (distinct "
                    f"interpreters: {row['fresh_interpreters']}); pre-flights: "
                    f"{row['preflights']}; reloadmw from {row['reloadmw']}"
                )
        if row["errors"]:
            lines.append(f"  errors: {row['errors']}")
        if row["left_behind"]:
            lines.append(f"  left behind {LINGER:.0f} s after the stop, killed: "
                         f"{row['left_behind']}")  # fmt: skip
        if row["server_files_left"]:
            lines.append(f"  left in {tempfile.gettempdir()} by the server, removed: "
                         f"{', '.join(row['server_files_left'])}")  # fmt: skip
    lines += server_tails(result["rows"], lambda row: row["tool"])
    lines.append(f"run: {result['seconds']:.0f} s")
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.assets")
    parser.add_argument("--edits", type=int, default=6, help="edits per tool")
    parser.add_argument("--seed", type=int, default=0, help="of the idles")
    parser.add_argument("--quick", action="store_true", help="2 edits per tool")
    options = parser.parse_args(argv)
    quick = options.quick or os.environ.get("RELOADMW_BENCH_QUICK") == "1"
    result = run(2 if quick else options.edits, options.seed)
    print("\n".join(report(result)), flush=True)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
