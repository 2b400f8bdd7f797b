"""A stand-in for gunicorn's arbiter and its workers, to watch what the gunicorn hook sends.

``fake_arbiter.py PID...`` runs one worker per argument, one after the other, all
built at the same moment; ``0`` means a worker that built the app itself, any other
pid a worker forked after the app was built there (``--preload``, where the hook does
not prepare, and so never fires). Prints one line per worker, then the signals the
arbiter received.
"""

import os
import signal
import subprocess
import sys
import time


def worker(app_pid: int, built_ns: int) -> None:
    from reloadmw import hooks

    terminated = []
    signal.signal(signal.SIGTERM, lambda number, frame: terminated.append(number))
    hook = hooks.Gunicorn()
    if hook.prepare({}, app=hooks.AppInfo(pid=app_pid or os.getpid(), built_ns=built_ns)):
        hook([__file__])  # one change, written before either worker found it
    time.sleep(0.2)
    print("worker SIGTERM" if terminated else "worker nothing", flush=True)


def arbiter(pids: list[str]) -> None:
    received = []
    signal.signal(signal.SIGHUP, lambda number, frame: received.append("SIGHUP"))
    built_ns = str(time.time_ns())
    for pid in pids:
        subprocess.run(
            [sys.executable, __file__, "--worker", pid, built_ns], check=True, timeout=30
        )
    time.sleep(0.2)
    print("arbiter", " ".join(received) or "nothing", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "--worker":
        worker(int(sys.argv[2]), int(sys.argv[3]))
    else:
        arbiter(sys.argv[1:])
