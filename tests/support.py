"""Helpers for the tests: modules on disk, a fake clock, real servers and HTTP."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import textwrap
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

#: The body of ``/big`` in tests/apps/versioned.py: 4 MB of known bytes.
BIG = bytes(range(256)) * (4 * 1024 * 1024 // 256)

#: Every wait in the tests is bounded by this many seconds, at most.
STARTUP_TIMEOUT = 30.0


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def write(path: Path, text: str) -> Path:
    """Write ``text`` (dedented) and move the mtime past any earlier write.

    Two writes within one tick of the kernel's file clock can get the same
    mtime; tests that mean "an edit" must not depend on that.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    old = path.stat().st_mtime_ns if path.exists() else None
    path.write_text(textwrap.dedent(text))
    path.chmod(0o644)
    if old is not None and path.stat().st_mtime_ns <= old:
        os.utime(path, ns=(old + 1_000_000, old + 1_000_000))
    return path


class ModuleMaker:
    """Writes modules and packages into a directory that is on sys.path."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __call__(self, name: str, source: str = "VALUE = 1\n") -> Path:
        parts = name.split(".")
        directory = self.root.joinpath(*parts[:-1])
        for depth in range(1, len(parts)):
            init = self.root.joinpath(*parts[:depth], "__init__.py")
            if not init.exists():
                write(init, "")
        return write(directory / f"{parts[-1]}.py", source)


class Clock:
    """A monotonic clock that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_executable(name: str) -> str:
    """The path of an executable the test set-up installs; fail (never skip) without it."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: run the README's test command, which installs it")
    return path


@dataclass
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def get(port: int, path: str = "/", timeout: float = 20.0) -> Response:
    """One GET on a fresh connection; the whole body, however long."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Connection": "close"})
        response = connection.getresponse()
        body = response.read()
        return Response(response.status, dict(response.getheaders()), body)
    finally:
        connection.close()


def wait_for(
    predicate: Callable[[], object], timeout: float, interval: float = 0.05, what: str = ""
) -> object:
    """Poll ``predicate`` until it returns something true, for ``timeout`` seconds at most."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            result = predicate()
        except (OSError, http.client.HTTPException) as error:
            last_error = error
        else:
            if result:
                return result
        time.sleep(interval)
    raise AssertionError(
        f"timed out after {timeout}s waiting for {what or predicate}: {last_error}"
    )


def wait_for_workers(ready_dir: Path, count: int, timeout: float = STARTUP_TIMEOUT) -> set[str]:
    """Wait until ``count`` processes have imported tests/apps/versioned.py; their pids."""
    wait_for(lambda: len(os.listdir(ready_dir)) >= count, timeout, what=f"{count} workers")
    return set(os.listdir(ready_dir))


class Server:
    """A server process on 127.0.0.1, stopped by its own pid."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        port: int,
        log_dir: Path,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        stop_signal: int = signal.SIGTERM,
        ready_path: str = "/",
    ) -> None:
        self.argv = list(argv)
        self.port = port
        self.cwd = cwd
        self.env = {**os.environ, **(env or {})}
        self.stop_signal = stop_signal
        self.ready_path = ready_path
        self.log_path = log_dir / f"server-{port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.wait_ready()

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT) -> None:
        def ready() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(
                    f"server exited with {self.process.returncode}:\n{self.log()}"
                )
            return get(self.port, self.ready_path, timeout=5).status < 500

        wait_for(ready, timeout, what=f"{self.argv[0]} on port {self.port}\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 15.0) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(self.stop_signal)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
