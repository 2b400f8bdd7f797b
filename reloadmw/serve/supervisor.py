"""The ``reloadmw serve`` supervisor: it owns the socket, and a server process at a time.

The supervisor binds the listening socket once and keeps it open for its whole
life, so a connection made during a restart waits in the backlog instead of
being refused. It starts ``reloadmw.serve.process`` with the socket; when that process
reports a change, the supervisor starts the next one at once while the old one
finishes its responses. The supervisor never imports the application: its code
is never stale.
"""

from __future__ import annotations

import contextlib
import os
import select
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import platform, preload, protocol

if TYPE_CHECKING:
    from ..options import Options, ServeSettings

#: How long a stop (Ctrl-C, SIGTERM) may take in all before the rest is killed.
STOP_TIMEOUT = 4.5
#: A server process that dies this soon after its start is restarted this much later.
CRASH_DELAY = 1.0


class ServeError(Exception):
    """A problem to report in one line, with exit status BAD_INPUT."""


def say(message: str) -> None:
    print(f"reloadmw: {message}", file=sys.stderr, flush=True)


def listen(host: str, port: int) -> socket.socket:
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        return socket.create_server((host, port), family=family, backlog=128, reuse_port=False)
    except OSError as error:
        raise ServeError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None


@dataclass
class Child:
    """A server process, as the supervisor sees it."""

    process: subprocess.Popen[bytes] | preload.Forked
    control: socket.socket  # the supervisor's end of its control socket pair
    forked: bool = False  # from the preload template
    fresh_because: str = ""  # why it was not forked, where it could have been
    started: float = field(default_factory=time.monotonic)
    reader: protocol.Reader = field(default_factory=protocol.Reader)

    def tell_stop(self) -> None:
        """Ask it to finish its responses and exit; terminate it if it cannot hear."""
        try:
            self.control.sendall(protocol.encode(protocol.Stop()))
        except OSError:
            with contextlib.suppress(OSError):
                self.process.terminate()


class Supervisor:
    def __init__(
        self, sock: socket.socket, target: str, server: str, options: str, preloads: bool = False
    ) -> None:
        self.sock = sock
        #: What every server process is started with: the target, the server, the options.
        self.launch = [target, server, options]
        self.children: dict[int, Child] = {}
        self.current: Child | None = None
        self.selector = selectors.DefaultSelector()
        self.stopping = False
        self.restart_started: float | None = None
        self.restart_path = ""
        self.also_watch: list[str] = []  # what made the last restart
        #: Set while a fresh interpreter checks a forked process's failed import: the
        #: library it failed in ("" for none), which the template leaves out if it imports.
        self.suspect: str | None = None
        self.announced = False
        self.noted: set[str] = set()  # the kinds of warning printed
        host, port = sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in str(host) else host
        self.banner = (
            f"serving {target} on http://{shown}:{port}/ with {server} "
            f"(supervisor pid {os.getpid()}); Ctrl-C stops"
        )
        # A signal writes a byte here, so that select() returns at once.
        self.wake_read, self.wake_write = socket.socketpair()
        for end in (self.wake_read, self.wake_write):
            end.setblocking(False)
        self.selector.register(self.wake_read, selectors.EVENT_READ, None)
        self.preloader: preload.Preloader | None = None
        if preloads and preload.available() and preload.become_subreaper():
            self.preloader = preload.Preloader(sock, self.selector, say, self.wake_read)

    def spawn(self, also_watch: Sequence[str] = (), fresh: bool = False) -> Child:
        """Start a server process; ``also_watch``: paths it watches besides its own (those
        that made its predecessor restart, so that a deleted file that comes back is seen);
        ``fresh``: in a fresh interpreter, never forked from the template."""
        mine, theirs = socket.socketpair()
        target, server, options = self.launch
        options = protocol.watch_also(options, also_watch)
        command = [sys.executable, "-m", "reloadmw.serve.process", target, server, options]
        forked = None
        if self.preloader is not None and not fresh:
            forked = self.preloader.spawn([target, server, options], theirs)
            if forked is None:  # a fork that came too late must not share this pair
                mine.close()
                theirs.close()
                mine, theirs = socket.socketpair()
        try:
            process = forked or platform.start(command, self.sock, theirs)
        finally:
            theirs.close()
        child = Child(process, mine, forked=forked is not None)
        if fresh:
            child.fresh_because = "the forked one failed to import the application"
        self.children[process.pid] = child
        self.selector.register(child.control, selectors.EVENT_READ, child)
        self.current = child
        return child

    def stop_soon(self, number: int, frame: object) -> None:
        self.stopping = True

    def run(self) -> int:
        for number in platform.stop_signals():
            signal.signal(number, self.stop_soon)
        signal.set_wakeup_fd(self.wake_write.fileno(), warn_on_full_buffer=False)
        self.spawn()
        if self.preloader is not None:
            self.preloader.start()
        try:
            while not self.stopping:
                for key, _ in self.selector.select(timeout=0.2):
                    if key.data is None:
                        with contextlib.suppress(OSError):
                            self.wake_read.recv(64)
                    elif isinstance(key.data, preload.Preloader):
                        key.data.read_reports()
                    else:
                        status = self.read_reports(key.data)
                        if status is not None:
                            return status
                status = self.reap()
                if status is not None:
                    return status
            return protocol.ExitStatus.STOPPED
        finally:
            self.stop_all()

    def read_reports(self, child: Child) -> int | None:
        try:
            data = child.control.recv(65536)
        except OSError:
            data = b""
        if not data:
            self.forget_control(child)
            return None
        for message in child.reader.feed(data):
            status = self.handle(message)
            if status is not None:
                return status
        return None

    def handle(self, message: protocol.Message) -> int | None:
        if isinstance(message, protocol.Failed):
            say(f"error: {message.message}")
            return protocol.ExitStatus.BAD_INPUT
        if isinstance(message, protocol.Ready):
            where = f"pid {message.pid} serving, {message.watched}{self.how(message.pid)}"
            if message.disabled:
                where = f"pid {message.pid} serving; reloadmw is disabled ({message.disabled})"
            if not self.announced:
                self.announced = True
                say(self.banner)
            for note in message.notes:  # once of each kind (what comes before the colon)
                if (kind := note.partition(":")[0]) not in self.noted:
                    self.noted.add(kind)
                    say(f"warning: {note}")
            if self.suspect is not None:
                self.blame_template(message)
            if self.restart_started is not None:
                took = time.monotonic() - self.restart_started
                say(f"restarted in {took:.2f}s after a change in {self.restart_path}: {where}")
                self.restart_started = None
            else:
                say(where)
        elif isinstance(message, protocol.Restart):
            changed = message.changed
            self.restart_started = time.monotonic()
            self.restart_path = changed[0] + (
                f" (+{len(changed) - 1} more)" if changed[1:] else ""
            )
            self.also_watch = list(changed)
            self.spawn(also_watch=changed)
        elif isinstance(message, protocol.Unfit):
            self.suspect = message.module
            self.spawn(also_watch=self.also_watch, fresh=True)
        if isinstance(message, protocol.Ready | protocol.Restart) and self.preloader is not None:
            self.preloader.feed(message.libraries)  # (after a restart's fork, as it must)
        return None

    def blame_template(self, ready: protocol.Ready) -> None:
        """A fresh interpreter is ready where a forked process failed to import the
        application: if it imported it, the template made the difference."""
        suspect, self.suspect = self.suspect or "", None
        if not ready.imported or self.preloader is None:
            return  # it fails the same way afresh: the application's own error
        what = suspect or "every module"
        say(f"preload template: {what} left out (a process forked from the template failed "
            "to import the application, a fresh interpreter did not)")  # fmt: skip
        self.preloader.leave_out(suspect)

    def how(self, pid: int) -> str:
        """How a server process started, where a template may have served."""
        child, preloader = self.children.get(pid), self.preloader
        if preloader is None or child is None or not self.announced:
            return ""
        if child.forked:
            return f" (forked from the template: {preloader.count} modules preloaded)"
        if child.fresh_because:
            return f" (a fresh interpreter: {child.fresh_because})"
        return " (a fresh interpreter: the template was not ready)"

    def reap(self) -> int | None:
        """Forget the processes that exited; replace the current one if it died.

        Returns an exit status when the very first server process dies before it
        ever served: a fault no restart would mend (the traceback is above).
        """
        for pid, child in list(self.children.items()):
            status = child.process.poll()
            if status is None:
                continue
            if child is self.current and child.control.fileno() != -1:
                # What it said before it exited (an Unfit) decides what comes next.
                while select.select([child.control], [], [], 0)[0]:
                    if child.control.fileno() == -1 or self.read_reports(child) is not None:
                        break
            del self.children[pid]
            self.forget_control(child)
            if child is self.current and not self.stopping:
                if not self.announced:
                    say(f"error: the server process exited with status {status} before serving")
                    return protocol.ExitStatus.CRASHED
                crashed_early = time.monotonic() - child.started < CRASH_DELAY
                say(f"pid {pid} exited with status {status}; starting a new server process")
                if crashed_early:
                    time.sleep(CRASH_DELAY)
                self.spawn()
        if self.preloader is not None:
            template = self.preloader.process
            known = {*self.children, *([template.pid] if template is not None else [])}
            preload.reap_strays(known)
        return None

    def forget_control(self, child: Child) -> None:
        if child.control.fileno() != -1:
            self.selector.unregister(child.control)
            child.control.close()

    def stop_all(self) -> None:
        signal.set_wakeup_fd(-1)
        for child in self.children.values():
            if child.process.poll() is None:
                child.tell_stop()
        deadline = time.monotonic() + STOP_TIMEOUT
        for child in self.children.values():
            try:
                child.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
        for child in self.children.values():
            self.forget_control(child)
        if self.preloader is not None:
            self.preloader.stop()
        self.sock.close()


def serve(target: str, settings: ServeSettings, options: Options) -> int:
    """Serve ``target`` until Ctrl-C, Ctrl-Break or SIGTERM; the exit status."""
    sock = listen(settings.host, settings.port)
    supervisor = Supervisor(sock, target, settings.server, options.to_json(), settings.preload)
    return supervisor.run()
