"""The supervisor's side of the preload template (Linux): start it, feed it, have it fork.

A restart under ``reloadmw serve`` spends most of its time importing libraries
that did not change. The template (``reloadmw.serve.template``) imports them
once, as the server processes report them (``Ready`` and ``Restart`` carry
their names), and each later server process is forked from it and imports only
the project's code. The supervisor becomes a child subreaper first, so that a
forked server process is its own child, waited for as any other.

Where the template cannot serve (not ready yet, gone, stale, or slow to answer),
the server process starts afresh as before, and a new template follows.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable

from . import platform, protocol

log = logging.getLogger("reloadmw")

#: How long a fork may take before the supervisor starts the process afresh instead.
SPAWN_TIMEOUT = 2.0
#: After this many templates in a row that ended before they were ready, no more start.
MAX_TEMPLATES = 20
_PR_SET_CHILD_SUBREAPER = 36


def available() -> bool:
    """Whether a template can serve here: Linux, where ``fork`` is safe and a process can
    adopt its grandchildren (macOS's frameworks are not safe to fork; Windows has no fork)."""
    return sys.platform == "linux"


def become_subreaper() -> bool:
    """Make this process the parent of the processes its template forks."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def reap_strays(known: set[int]) -> None:
    """Wait for the processes that this subreaper adopted and does not know (a server
    process's own children, orphaned), so that none stays a zombie."""
    if sys.platform != "linux":
        return
    while True:
        try:
            found = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return
        if found is None or found.si_pid in known:
            return
        with contextlib.suppress(ChildProcessError):
            os.waitpid(found.si_pid, 0)


class Forked:
    """A server process forked by the template: what the supervisor uses of ``Popen``."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if sys.platform == "win32":  # never made there (available() is False)
            raise OSError("no forked server processes on Windows")
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = -1  # not ours after all: it is gone, whatever it said
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (status := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(0.01)
        return status

    def kill(self) -> None:
        if sys.platform != "win32" and self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)

    def terminate(self) -> None:
        if self.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)


class Preloader:
    """The template of the moment, with what it was asked to import and what it left out."""

    def __init__(
        self,
        sock: socket.socket,
        selector: selectors.BaseSelector,
        say: Callable[[str], None],
        wake: socket.socket | None = None,
    ) -> None:
        self.sock = sock
        self.selector = selector  # the supervisor's: it hears the template's reports
        self.say = say
        self.wake = wake  # readable once a signal came: a Spawn waits no longer
        self.names: dict[str, None] = {}  # every library module reported, in order
        self.left_out: set[str] = set()
        self.failures = 0  # templates in a row that ended before they were ready
        self.process: subprocess.Popen[bytes] | None = None
        self.control: socket.socket | None = None
        self.count = 0  # modules it has
        self.later = False  # start a template at the next report (not during a restart)
        self._pending = 0  # Preloads it has not answered yet
        self._asked: set[str] = set()
        self._reader = protocol.Reader()

    @property
    def ready(self) -> bool:
        return self.control is not None and self._pending == 0 and self.count > 0

    def start(self) -> None:
        """Start a template, whose reports reach ``read_reports`` through the selector."""
        self.stop()
        if self.failures >= MAX_TEMPLATES:
            return
        mine, theirs = socket.socketpair()
        command = [sys.executable, "-m", "reloadmw.serve.template"]
        try:
            self.process = platform.start(command, self.sock, theirs)
        finally:
            theirs.close()
        self.control, self.count, self._pending, self._asked = mine, 0, 0, set()
        self._reader = protocol.Reader()
        self.selector.register(mine, selectors.EVENT_READ, self)
        self.feed([])

    def _wanted(self, name: str) -> bool:
        return not any(name == out or name.startswith(f"{out}.") for out in self.left_out)

    def feed(self, names: list[str]) -> None:
        """Have the template import ``names`` too (those it was not asked yet)."""
        self.names.update(dict.fromkeys(names))
        if self.later and self.control is None:
            self.later = False
            self.start()
            return
        new = [n for n in self.names if n not in self._asked and self._wanted(n)]
        if self.control is None or not new:
            return
        self._asked.update(new)
        self._pending += 1
        with contextlib.suppress(OSError):
            self.control.sendall(protocol.encode(protocol.Preload(new, sorted(self.left_out))))

    def read_reports(self) -> None:
        """What the template said; a new template when this one ended."""
        assert self.control is not None
        try:
            data = self.control.recv(65536)
        except OSError:
            data = b""
        for message in self._reader.feed(data) if data else []:
            self._handle(message)
        if not data:
            self._ended()

    def _handle(self, message: protocol.Message) -> None:
        if isinstance(message, protocol.Preloaded):
            first, self.count = self.count == 0, message.count
            self._pending = max(0, self._pending - 1)
            self.failures = 0
            if first and self.process is not None:
                self.say(f"preload template pid {self.process.pid} has {self.count} modules "
                         "imported: each restart forks from it")  # fmt: skip
        elif isinstance(message, protocol.LeftOut):
            self.say(f"preload template: {message.name} left out ({message.why})")
            self.left_out.add(message.name)
        elif isinstance(message, protocol.Stale):
            log.debug("the preload template is stale (%s changed)", message.path)
            self.later = True  # a new one once the next server process is up

    def leave_out(self, name: str) -> None:
        """Leave ``name`` out of every later template ("": preload no more), and replace
        this one once the next server process is up."""
        if not name:
            self.failures = MAX_TEMPLATES
            self.stop()
            return
        self.left_out.add(name)
        self.stop()
        self.later = True

    def _ended(self) -> None:
        """The template exited: another takes its place, unless too many did in a row."""
        self.failures += 1
        later = self.later
        self.stop()
        if self.failures == MAX_TEMPLATES:
            self.say(f"{MAX_TEMPLATES} preload templates in a row ended before they were "
                     "ready: each restart starts a fresh interpreter from now on")  # fmt: skip
        elif not later:
            self.start()

    def spawn(self, launch: list[str], control: socket.socket) -> Forked | None:
        """A server process forked from the template, with ``control``; None where it cannot
        (the caller then starts one afresh, with a control socket of its own)."""
        if not self.ready or self.control is None or sys.platform == "win32":
            return None
        try:
            message = protocol.encode(protocol.Spawn(launch))
            socket.send_fds(self.control, [message], [control.fileno()])
            answer = self._answer()
        except OSError:
            answer = None
        if isinstance(answer, protocol.Spawned) and answer.pid > 0:
            return Forked(answer.pid)
        self.failures += answer is None  # (stale: a library changed, no failure)
        self.stop()  # (a late fork gets no control socket: it ends at once)
        if answer is None:
            self.later = True
        return None

    def _answer(self) -> protocol.Message | None:
        """The template's answer to a Spawn, within SPAWN_TIMEOUT (less after a signal)."""
        assert self.control is not None
        deadline = time.monotonic() + SPAWN_TIMEOUT
        with selectors.DefaultSelector() as selector:
            selector.register(self.control, selectors.EVENT_READ, self.control)
            if self.wake is not None:
                selector.register(self.wake, selectors.EVENT_READ, None)
            while (left := deadline - time.monotonic()) > 0:
                ready = selector.select(left)
                if not ready or any(key.data is None for key, _ in ready):
                    return None
                data = self.control.recv(65536)
                if not data:
                    return None
                for message in self._reader.feed(data):
                    self._handle(message)
                    if isinstance(message, protocol.Spawned | protocol.Stale):
                        return message
        return None

    def stop(self) -> None:
        """End the template of the moment, if any (its process group: a fork in progress too)."""
        if self.control is not None:
            with contextlib.suppress(KeyError, ValueError):
                self.selector.unregister(self.control)
            with contextlib.suppress(OSError):
                self.control.close()
            self.control = None
        if self.process is not None:
            if sys.platform != "win32":
                with contextlib.suppress(OSError):
                    os.killpg(self.process.pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                self.process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(5)
            self.process = None
