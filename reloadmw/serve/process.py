"""One ``reloadmw serve`` server process: the application on the supervisor's socket.

The supervisor starts this module with the listening socket and a control
socket. On a change, the hand-over hook tells the supervisor (which starts the
next process at once), stops accepting, lets every response in flight finish
to the last byte, and exits. Connections that arrive meanwhile wait in the
socket's backlog for the next process: none is refused. A "stop" from the
supervisor (Ctrl-C, Ctrl-Break, SIGTERM), or the supervisor's end closing
(it is gone), ends the process the same way.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from ..collect import collecting
from ..converters import DISABLE_VARIABLE
from ..hooks import Hook
from ..loading import targets
from ..middleware import ReloadMiddleware
from ..options import Options, declarations
from ..places import places
from ..watch import module_file
from ..watch.sources import is_site_path, library_dirs
from . import platform, protocol, warm
from .adapter import Adapter, open_adapter
from .forward import forward, successor_address

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

#: How long a hand-over waits for the responses in flight (a 64 MB download, say).
HANDOVER_DRAIN = 120.0
#: How long a stop (Ctrl-C, SIGTERM) waits for them: the supervisor allows 5 s in all.
STOP_DRAIN = 3.0
#: How long a held request waits for this process to stop accepting.
STOP_ACCEPTING_TIMEOUT = 10.0

log = logging.getLogger("reloadmw")


class ServerProcess:
    """The control socket, the server adapter, and the one way this process ends."""

    def __init__(self, control: socket.socket, address: tuple[str, int]) -> None:
        self.control = control
        #: Where the successor accepts: this process's listening address.
        self.address = address
        self.adapter: Adapter | None = None
        #: The modules it loaded from the standard library and site-packages, by name.
        self.libraries: Callable[[], list[str]] = list
        #: Set once this process takes no new connection: the backlog is the successor's.
        self.stopped_accepting = threading.Event()
        self._lock = threading.Lock()
        self._ending = threading.Event()

    def tell(self, message: protocol.Message) -> None:
        with self._lock:
            self.control.sendall(protocol.encode(message))

    def end(self, timeout: float, status: protocol.ExitStatus) -> None:
        """Stop accepting, drain the responses in flight (up to ``timeout``), and exit."""
        if self.adapter is not None:
            self.adapter.stop_accepting()
            self.stopped_accepting.set()
            drained = self.adapter.drain(timeout)
            sys.stderr.flush()
            if not drained:
                print(
                    f"reloadmw: pid {os.getpid()} gave up waiting for its requests",
                    file=sys.stderr,
                )
        os._exit(status)

    def end_soon(self, timeout: float, status: protocol.ExitStatus) -> None:
        """``end`` in a thread of its own, once: the caller (a request, a signal) returns."""
        if not self._ending.is_set():
            self._ending.set()
            threading.Thread(target=self.end, args=(timeout, status), daemon=True).start()

    def listen(self) -> None:
        """Wait for the supervisor's Stop, or for its end to close (it is gone): then stop."""
        reader = protocol.Reader()
        with contextlib.suppress(OSError, ValueError):
            while data := self.control.recv(4096):
                if any(isinstance(m, protocol.Stop) for m in reader.feed(data)):
                    break
        self.end_soon(STOP_DRAIN, protocol.ExitStatus.STOPPED)


class HandOver(Hook):
    """The restart hook inside ``reloadmw serve``: hand over to a fresh process.

    It holds the request that found the change, and every later one this
    process still receives (on a keep-alive connection): each is sent to the
    successor once this process has stopped accepting, and its answer streamed
    back. So no answer after a change comes from the old code.
    """

    name = "reloadmw serve"
    successor = "new"

    def __init__(self, process: ServerProcess) -> None:
        self._process = process
        self._done = threading.Event()

    def __call__(self, changed: Sequence[str]) -> None:
        if self._done.is_set():
            return  # a second middleware in the same process found it too
        self._done.set()
        libraries = self._process.libraries()
        self._process.tell(protocol.Restart(os.getpid(), list(changed), libraries))
        self._process.end_soon(HANDOVER_DRAIN, protocol.ExitStatus.HANDED_OVER)

    def forward(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Send a request to the new process, and stream its answer back."""
        # Until this process has stopped accepting, it could take the forward itself.
        if not self._process.stopped_accepting.wait(STOP_ACCEPTING_TIMEOUT):
            log.warning("pid %d did not stop accepting in time; sending on anyway", os.getpid())
        return forward(environ, start_response, self._process.address)


def _library_at_fault(error: BaseException) -> str:
    """The library module in which ``error`` was raised (the innermost frame of one), or ""."""
    files = {module_file(module): name for name, module in list(sys.modules.items())}
    stdlib, site = library_dirs()
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        path = os.path.abspath(frame.filename)
        if path.startswith(stdlib) or not is_site_path(path, site):
            continue
        if name := files.get(path):
            return name
    return ""


def unreached(options: Options, built: Sequence[ReloadMiddleware]) -> list[str]:
    """A note where the application built its own ReloadMiddleware (an ini file's
    ``[filter:reload]``) with options other than serve's: serve's flags cannot reach it."""
    differ = {
        (each.name, str(declaration.flag))
        for middleware in built
        for each, declaration in declarations(Options)
        if declaration.flag is not None
        and getattr(middleware.options, each.name) != getattr(options, each.name)
    }
    if not differ:
        return []
    flags = ", ".join(sorted(flag for _, flag in differ))
    keys = ", ".join(sorted(name for name, _ in differ))
    return [
        f"the application builds its own ReloadMiddleware (an ini file's [filter:reload]): "
        f"serve's {flags} do not reach it; set {keys} in that section, or leave the filter "
        "out of the ini file under serve"
    ]


class _Terminal(logging.Handler):
    """The middleware's lines for the terminal under serve: those marked ``terminal``
    (a template read again, with no restart line of the supervisor's to say so), and its
    warnings where nothing else would show them (Python's last-resort handler does, until a
    handler such as this one is added)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "terminal", False):
            text = f"reloadmw: {record.getMessage()}"
        elif record.levelno >= logging.WARNING and not logging.getLogger().handlers:
            text = self.format(record)
        else:
            return
        try:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)


def run(
    target: str, server: str, options: Options, sockets: list[str], forked: bool = False
) -> None:
    """Serve ``target`` on the supervisor's socket, reporting on the control socket.

    ``sockets`` are the arguments that name the two sockets (see ``platform.receive``);
    ``forked``: this process was forked from the preload template, which is suspect where
    the application fails to import (it says ``Unfit`` and exits).
    """
    platform.ignore_console_signals()
    if not any(isinstance(handler, _Terminal) for handler in log.handlers):
        log.addHandler(_Terminal())
        if log.getEffectiveLevel() > logging.INFO:
            log.setLevel(logging.INFO)
    sock, control = platform.receive(sockets)
    process = ServerProcess(control, successor_address(sock))
    handover = HandOver(process)
    with collecting() as built:
        try:
            app = targets.load(target, options=dataclasses.replace(options, hook=handover))
        except targets.TargetError as error:
            process.tell(protocol.Failed(os.getpid(), str(error)))
            os._exit(protocol.ExitStatus.BAD_INPUT)
    failure = targets.failed_import(app)
    if forked and failure is not None:
        process.tell(protocol.Unfit(os.getpid(), _library_at_fault(failure)))
        os._exit(protocol.ExitStatus.UNFIT)
    for middleware in built:
        middleware.use_hook(handover)  # an ini's own [filter:reload] with hook=auto
    if failure is None:
        log.debug("warmed in %.3fs", warm.warm())
    process.adapter = open_adapter(server, sock, app)
    if sys.platform != "win32":  # a signal sent to this process alone
        signal.signal(
            signal.SIGTERM,
            lambda number, frame: process.end_soon(STOP_DRAIN, protocol.ExitStatus.STOPPED),
        )
    threading.Thread(target=process.listen, daemon=True).start()
    watched = places([path for m in built for path in m.watched_files])
    disabled = "" if options.enabled else f"{DISABLE_VARIABLE} is set in the environment"
    watcher = next((m._check.watcher for m in built if m._check.watcher is not None), None)
    if watcher is not None and watcher.polled:  # files on a share: no event comes for them
        watched += f" ({watcher.describe()})"
    own = targets.package_of(target)  # installed in site-packages, it is still the application
    process.libraries = lambda: [
        name
        for name in (watcher.libraries() if watcher is not None else [])  # in import order
        if own is None or (name != own and not name.startswith(f"{own}."))
    ]
    ready = protocol.Ready(
        os.getpid(), watched, disabled, process.libraries(), failure is None,
        unreached(options, built) if failure is None else [],  # its page's own options
    )  # fmt: skip
    process.tell(ready)
    process.adapter.serve()
    time.sleep(HANDOVER_DRAIN)  # serve() returns on a stop; end() ends the process


def main(arguments: list[str], forked: bool = False) -> None:
    """``python -m reloadmw.serve.process TARGET SERVER OPTIONS SOCKETS...``"""
    run(arguments[0], arguments[1], Options.from_json(arguments[2]), arguments[3:], forked)


if __name__ == "__main__":
    main(sys.argv[1:])
