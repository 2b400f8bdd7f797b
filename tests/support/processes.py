"""Processes for the tests: real servers on 127.0.0.1, each stopped by its own pid."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

from .network import STARTUP_TIMEOUT, get, wait_for


def require_executable(name: str) -> str:
    """The path of an executable the test set-up installs; fail (never skip) without it."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: run the README's test command, which installs it")
    return path


def stop_and_time(process: subprocess.Popen[bytes], send: Callable[[], None]) -> tuple[int, float]:
    """``send()`` a stop to ``process``; its exit status and the seconds it took to exit.

    Whatever happens, the process is gone afterwards (killed after 10 s).
    """
    started = time.monotonic()
    try:
        send()
        status = process.wait(10)
        return status, time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def stop_group(process: subprocess.Popen[bytes], sig: int = signal.SIGINT) -> None:
    """``sig`` to the process group that ``process`` leads (Ctrl-C by default), SIGKILL after
    10 s, then SIGKILL to what its master left behind; a process already gone is no error."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


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
        group: bool = False,
        startup_timeout: float = STARTUP_TIMEOUT,
    ) -> None:
        """``group``: the process leads a new process group (a shell running a
        documented command line), and the stop signal goes to that group, as a
        terminal's Ctrl-C would; the group's id is the process's own pid."""
        self.argv = list(argv)
        self.port = port
        self.cwd = cwd
        self.env = {**os.environ, **(env or {})}
        self.stop_signal = stop_signal
        self.ready_path = ready_path
        self.group = group
        self.startup_timeout = startup_timeout
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
                start_new_session=self.group,
            )
        self.wait_ready(self.startup_timeout)

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT) -> None:
        def ready() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(
                    f"server exited with {self.process.returncode}:\n{self.log()}"
                )
            return get(self.port, self.ready_path, timeout=5).status > 0  # any answer

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
        send = (lambda sig: os.killpg(process.pid, sig)) if self.group else process.send_signal
        send(self.stop_signal)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            send(signal.SIGKILL)
            process.wait(timeout)
        if self.group:
            with contextlib.suppress(ProcessLookupError):  # what the shell left behind
                os.killpg(process.pid, signal.SIGKILL)
