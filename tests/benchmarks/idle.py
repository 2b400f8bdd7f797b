"""CPU used over a quiet spell by a process that serves no request.

reloadmw checks only on requests, so an idle process should use none. The
peers poll from a thread. Each contender runs in its own interpreter with the
same generated package tree, all at once; each reports its own CPU time
(``resource.getrusage``) over the same span.
"""

from __future__ import annotations

import importlib
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from tests.benchmarks.check import make_tree

CONTENDERS = ("reloadmw", "werkzeug", "Django")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def idle(kind: str, seconds: float, modules: int) -> float:
    root = tempfile.mkdtemp(prefix="reloadmw-idle-")
    sys.path.insert(0, root)
    try:
        for name in make_tree(root, modules):
            importlib.import_module(name)
        if kind == "reloadmw":
            from reloadmw import ReloadMiddleware

            keep = ReloadMiddleware(lambda environ, start_response: [])  # noqa: F841
        elif kind == "werkzeug":
            from werkzeug._reloader import StatReloaderLoop

            loop = StatReloaderLoop(interval=1)
            loop.__enter__()
            threading.Thread(target=loop.run, daemon=True).start()
        else:
            from django.utils import autoreload

            reloader = autoreload.StatReloader()
            threading.Thread(target=lambda: [None for _ in reloader.tick()], daemon=True).start()
        time.sleep(1)  # let the pollers settle into their loops
        before = cpu_seconds()
        time.sleep(seconds)
        return cpu_seconds() - before
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run(seconds: float = 20.0, modules: int = 2000) -> dict[str, float]:
    processes = {
        kind: subprocess.Popen(
            [sys.executable, "-m", "tests.benchmarks.idle", kind, str(seconds), str(modules)],
            stdout=subprocess.PIPE,
        )
        for kind in CONTENDERS
    }
    results = {}
    for kind, process in processes.items():
        output, _ = process.communicate(timeout=seconds + 120)
        results[kind] = json.loads(output)
    return {"seconds": seconds, "modules": modules, **results}


def report(result: dict[str, float]) -> list[str]:
    seconds = result["seconds"]
    lines = [f"Idle for {seconds:g} s with {result['modules']} modules: CPU time used"]
    for kind in CONTENDERS:
        used = result[kind]
        lines.append(f"{kind:<10} {used:.3f} s ({used / seconds * 100:.2f} % of a core)")
    return lines


if __name__ == "__main__":
    print(json.dumps(idle(sys.argv[1], float(sys.argv[2]), int(sys.argv[3]))))
