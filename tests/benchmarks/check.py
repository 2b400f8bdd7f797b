"""One check (no change) over N generated modules: reloadmw beside the floor and the peers.

Each size runs in a fresh interpreter (``python -m tests.benchmarks.check N``)
that imports only the generated package tree and the reloaders being
compared, so every contender sees the same sys.modules. reloadmw runs with
``include_site_packages=True`` (the peers watch site-packages too); the floor
is a bare ``os.stat`` loop over the files reloadmw watches. The peers also
stat the standard library's files, so each row says how many files it stats.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable

from tests.benchmarks.timing import Timing, interleaved


def make_tree(root: str, count: int, per_package: int = 50) -> list[str]:
    """Write ``count`` modules in packages of ``per_package``; return their names."""
    names = []
    top = f"benchtree{count}"
    os.makedirs(os.path.join(root, top))
    open(os.path.join(root, top, "__init__.py"), "w").close()
    for number in range(count - 1):
        package = f"p{number // per_package}"
        directory = os.path.join(root, top, package)
        if not os.path.isdir(directory):
            os.makedirs(directory)
            open(os.path.join(directory, "__init__.py"), "w").close()
            names.append(f"{top}.{package}")
        with open(os.path.join(directory, f"m{number}.py"), "w") as stream:
            stream.write(f"VALUE = {number}\n")
        names.append(f"{top}.{package}.m{number}")
    return [top, *names][:count]


def contenders(count: int) -> tuple[dict[str, Callable[[], object]], dict[str, int]]:
    """One check of each contender, and how many files each one stats."""
    import gunicorn.reloader
    import hupper.polling
    import hupper.worker
    import paste.reloader
    from django.utils import autoreload
    from werkzeug import _reloader

    from reloadmw.watch import Watcher

    checks: dict[str, Callable[[], object]] = {}
    files: dict[str, int] = {}

    stat_watcher = Watcher(include_site_packages=True)
    paths = stat_watcher.paths
    stat = os.stat

    def floor() -> None:
        for path in paths:
            stat(path)

    checks["floor: os.stat loop"], files["floor: os.stat loop"] = floor, len(paths)
    checks["reloadmw (stat)"], files["reloadmw (stat)"] = stat_watcher.check, len(stat_watcher)
    evented = Watcher(include_site_packages=True, backend="inotify")
    checks["reloadmw (inotify)"], files["reloadmw (inotify)"] = evented.check, len(evented)

    werkzeug = _reloader.StatReloaderLoop()
    werkzeug.__enter__()
    checks["werkzeug StatReloaderLoop"] = werkzeug.run_step
    files["werkzeug StatReloaderLoop"] = len(list(_reloader._find_stat_paths(set(), set())))

    django = autoreload.StatReloader()
    django.SLEEP_TIME = 0  # tick() sleeps before it yields
    ticker = django.tick()
    next(ticker)
    checks["Django StatReloader"] = lambda: next(ticker)
    files["Django StatReloader"] = len(set(django.watched_files()))

    monitor = paste.reloader.Monitor(poll_interval=1)
    checks["paste.reloader Monitor"] = monitor.check_reload
    files["paste.reloader Monitor"] = sum(
        1 for m in list(sys.modules.values()) if getattr(m, "__file__", None)
    )

    polling = hupper.polling.PollingFileMonitor(callback=lambda path: None)
    module_paths = list(hupper.worker.iter_module_paths())
    polling.check_reload(module_paths)
    checks["hupper PollingFileMonitor"] = lambda: polling.check_reload(module_paths)
    files["hupper PollingFileMonitor"] = len(module_paths)

    reloader = gunicorn.reloader.Reloader()
    mtimes: dict[str, float] = {}

    def gunicorn_pass() -> None:  # the body of gunicorn's Reloader.run loop, once
        for filename in reloader.get_files():
            try:
                mtime = os.stat(filename).st_mtime
            except OSError:
                continue
            old_time = mtimes.get(filename)
            if old_time is None:
                mtimes[filename] = mtime
                continue

    gunicorn_pass()
    checks["gunicorn Reloader"], files["gunicorn Reloader"] = (
        gunicorn_pass,
        len(reloader.get_files()),
    )
    return checks, files


def run(count: int, rounds: int) -> dict[str, object]:
    root = tempfile.mkdtemp(prefix="reloadmw-bench-")
    sys.path.insert(0, root)
    try:
        for name in make_tree(root, count):
            importlib.import_module(name)
        checks, files = contenders(count)
        number = 5 if count <= 2000 else 2
        timings = interleaved(checks, number=number, rounds=rounds)
        return {
            "modules": count,
            "rows": [
                {"name": name, "files": files[name], "median": t.median, "low": t.low,
                 "high": t.high}
                for name, t in timings.items()
            ],
        }  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)


def report(result: dict[str, object]) -> list[str]:
    rows = result["rows"]
    assert isinstance(rows, list)
    floor = rows[0]
    lines = [
        f"One check, no change, {result['modules']} generated modules "
        "(median over rounds, [min .. max], ratio to the floor)",
        f"{'contender':<28} {'files':>6} {'ms':>9} {'range':>19} {'ratio':>7} {'us/file':>8}",
    ]
    for row in rows:
        timing = Timing(row["name"], row["median"], row["low"], row["high"])
        lines.append(
            f"{row['name']:<28} {row['files']:>6} {timing.median * 1e3:>9.3f} "
            f"[{timing.low * 1e3:7.3f} .. {timing.high * 1e3:7.3f}] "
            f"{timing.median / floor['median']:>6.2f}x {timing.median / row['files'] * 1e6:>8.2f}"
        )
    return lines


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 15)))
