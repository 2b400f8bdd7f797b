"""CPU used over a quiet spell by a process that serves no request.

reloadmw checks only on requests, so an idle process should use none. The
peers poll from a thread (werkzeug and Django stat the files once a second, as
they do unless watchdog or watchman is installed; neither is here, so that the
other benchmarks run the peers as most users have them). Each contender runs in its
own interpreter with the same generated package tree, all at once; each reports
its own CPU time (``resource.getrusage``) over the same span.

Then ``reloadmw serve`` itself, all of its processes (supervisor, server process,
preload template), over the same span: with no page open, and with a page open,
whose live-reload script asks the server once a second (what this client sends,
the same requests, from this process, whose own CPU is not counted).
"""

from __future__ import annotations

import importlib
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from tests.benchmarks.check import make_tree
from tests.benchmarks.server import free_port

CONTENDERS = ("reloadmw", "werkzeug", "Django")
NAMES = {"reloadmw": "reloadmw", "werkzeug": "werkzeug (stat)", "Django": "Django (stat)"}
ROOT = Path(__file__).resolve().parents[2]


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


def group_cpu(group: int) -> float:
    """CPU seconds used so far by the live processes of a process group."""
    total = 0
    for entry in os.listdir("/proc"):
        try:
            fields = Path("/proc", entry, "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == group:  # pgrp; utime and stime are fields 14 and 15
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def serve_idle(seconds: float, page_open: bool) -> float:
    """CPU used by all of ``reloadmw serve``'s processes over ``seconds``."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "reloadmw", "serve", "docs/examples/hello.py", "--port",
         str(port)], cwd=ROOT, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                page = get(base + "/")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        g, v, b = re.search(r'data-reloadmw="([^"]*)"', page).group(1).split(".")  # type: ignore[union-attr]
        poll = f"{base}/__reloadmw__/poll?g={g}&v={v}&b={b}"
        time.sleep(3)  # the preload template imports once, after the first page
        before = group_cpu(process.pid)
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if page_open:
                get(poll)
            time.sleep(min(1.0, max(left, 0)))
        return group_cpu(process.pid) - before
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


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
    serving = {f"serve-{state}": serve_idle(seconds, state == "page")
               for state in ("quiet", "page")}  # fmt: skip
    return {"seconds": seconds, "modules": modules, **results, **serving}


def report(result: dict[str, float]) -> list[str]:
    seconds = result["seconds"]
    lines = [f"Idle for {seconds:g} s with {result['modules']} modules: CPU time used"]
    rows = [(NAMES[kind], result[kind]) for kind in CONTENDERS] + [
        ("reloadmw serve, no page open", result["serve-quiet"]),
        ("reloadmw serve, a page open", result["serve-page"]),
    ]
    for name, used in rows:
        lines.append(f"{name:<30} {used:.3f} s ({used / seconds * 100:.2f} % of a core)")
    return lines


if __name__ == "__main__":
    print(json.dumps(idle(sys.argv[1], float(sys.argv[2]), int(sys.argv[3]))))
