"""Requests per second through a real gunicorn (sync, 2 workers), with and without reloadmw.

Both servers run at once on 127.0.0.1; a load generator in other processes
drives one, then the other, in alternating rounds of a few seconds each, so
drift on a busy machine hits both alike. Bounded in time; every process is
stopped by its pid.
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

APP = """
from reloadmw import ReloadMiddleware


def bare(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


wrapped = ReloadMiddleware(bare, interval=1)
"""


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def hammer(port: int, seconds: float) -> int:
    """Requests completed in ``seconds``, one connection each (sync workers close them)."""
    done = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("GET", "/")
            response = connection.getresponse()
            if response.read() == b"ok":
                done += 1
        except OSError:
            pass
        finally:
            connection.close()
    return done


def start(directory: str, variant: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--chdir", directory, f"bench_app:{variant}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "XDG_RUNTIME_DIR": directory},
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/")
            if connection.getresponse().status == 200:
                return process, port
        except OSError:
            time.sleep(0.1)
        finally:
            connection.close()
    raise RuntimeError(f"gunicorn ({variant}) did not start")


def run(seconds: float = 3.0, rounds: int = 4, clients: int = 2) -> dict[str, object]:
    directory = tempfile.mkdtemp(prefix="reloadmw-rps-")
    with open(os.path.join(directory, "bench_app.py"), "w") as stream:
        stream.write(APP)
    servers = {}
    try:
        for variant in ("bare", "wrapped"):
            servers[variant] = start(directory, variant)
        rates: dict[str, list[float]] = {"bare": [], "wrapped": []}
        with multiprocessing.Pool(clients) as pool:
            for number in range(rounds):
                order = ("bare", "wrapped") if number % 2 == 0 else ("wrapped", "bare")
                for variant in order:
                    port = servers[variant][1]
                    counts = pool.starmap(hammer, [(port, seconds)] * clients)
                    rates[variant].append(sum(counts) / seconds)
        bare, wrapped = statistics.median(rates["bare"]), statistics.median(rates["wrapped"])
        return {"bare": bare, "wrapped": wrapped, "rounds": rates, "seconds": seconds}
    finally:
        for process, _ in servers.values():
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(directory, ignore_errors=True)


def report(result: dict[str, object]) -> list[str]:
    bare, wrapped = float(result["bare"]), float(result["wrapped"])  # type: ignore[arg-type]
    return [
        "Through gunicorn (sync, 2 workers), requests per second, median of alternating rounds",
        f"without reloadmw: {bare:.0f}/s; with ReloadMiddleware(interval=1): {wrapped:.0f}/s; "
        f"{wrapped / bare * 100:.1f} %",
    ]
