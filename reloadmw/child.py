"""One ``reloadmw serve`` server process: the application on the supervisor's socket.

The supervisor owns the listening socket and starts this module with it. On a
change, the hand-over hook tells the supervisor (which starts the next process
at once), stops accepting, lets every response in flight finish to the last
byte, and exits. Connections that arrive meanwhile wait in the socket's
backlog for the next process: none is refused.

The supervisor talks with this process through a socket pair: JSON lines from
here, and "stop" from there (also on Windows, where there is no SIGTERM to catch).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from . import handoff, hooks, middleware, targets

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: How long a hand-over waits for the responses in flight (a 64 MB download, say).
HANDOVER_DRAIN = 120.0
#: How long a stop (Ctrl-C, SIGTERM) waits for them: the supervisor allows 5 s in all.
STOP_DRAIN = 3.0
#: How long a waitress connection must have been quiet to be closed as idle.
IDLE_CHANNEL = 1.0
#: The exit status of a process that handed over to its successor.
HANDED_OVER = 3


class ThreadedServer(socketserver.ThreadingMixIn, WSGIServer):
    """The standard library's WSGI server, a thread per request, on a given socket."""

    daemon_threads = True  # in-flight requests are counted and drained here instead

    def __init__(self, sock: socket.socket, app: WSGIApplication) -> None:
        host, port = sock.getsockname()[:2]
        super().__init__((host, port), WSGIRequestHandler, bind_and_activate=False)
        self.socket.close()
        self.socket = sock
        # HTTPServer.server_bind would look the host's name up; the address will do.
        self.server_name, self.server_port = str(host), int(port)
        self.setup_environ()
        self.set_app(app)
        # Old and new processes poll the same socket during a hand-over; the one
        # that loses a race for a connection must not block in accept().
        sock.setblocking(False)
        self._active = 0
        self._idle = threading.Condition()

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = self.socket.accept()  # BlockingIOError: another took it
        connection.setblocking(True)
        return connection, address

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._idle:
            self._active += 1  # before the thread starts, so a drain cannot miss it
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def serve(self) -> None:
        self.serve_forever(poll_interval=0.1)

    def stop_accepting(self) -> None:
        """Stop the accept loop, and wait until it has stopped (not from its own thread)."""
        self.shutdown()

    def drain(self, timeout: float) -> bool:
        """Wait until no request is in flight; False if ``timeout`` ran out first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._active == 0, timeout)


class WaitressServer:
    """waitress on a given socket, with the graceful stop that waitress lacks.

    waitress writes a response from its main loop after the application's
    ``close()`` has returned, so a process may only end once every channel has
    flushed its output; idle keep-alive channels are closed first.
    """

    def __init__(self, sock: socket.socket, app: WSGIApplication) -> None:
        from waitress import create_server

        self.server: Any = create_server(app, sockets=[sock], threads=8, ident="waitress")

    def serve(self) -> None:
        self.server.run()

    def stop_accepting(self) -> None:
        """Stop accepting, and wait until the main loop can accept no more."""
        self.server.accepting = False
        # A poll in progress may still accept once: two trips through the main
        # loop make sure that the next poll leaves the listening socket out.
        for _ in range(2):
            looped = threading.Event()
            self.server.trigger.pull_trigger(looped.set)
            looped.wait(5)

    def drain(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            channels = list(self.server.active_channels.values())
            if not channels:
                return True
            quiet_since = time.time() - IDLE_CHANNEL
            for channel in channels:
                # A channel with nothing to do for a while is an idle keep-alive
                # connection; a younger one may have a request on its way in.
                idle = not channel.requests and not channel.total_outbufs_len
                if idle and channel.last_activity < quiet_since:
                    channel.will_close = True
            self.server.pull_trigger()
            time.sleep(0.02)
        return False


SERVERS: dict[str, Callable[[socket.socket, WSGIApplication], Any]] = {
    "wsgiref": ThreadedServer,
    "waitress": WaitressServer,
}


class HandOver(hooks.Hook):
    """The restart hook inside ``reloadmw serve``: hand over to a fresh process."""

    name = "reloadmw serve"

    def __init__(self, tell: Callable[..., None], finish: Callable[[float, int], None]) -> None:
        self._tell = tell
        self._finish = finish
        self._done = threading.Event()

    def __call__(self, changed: Sequence[str]) -> None:
        if self._done.is_set():
            return
        self._done.set()
        self._tell("restart", changed=list(changed))
        threading.Thread(
            target=self._finish, args=(HANDOVER_DRAIN, HANDED_OVER), daemon=True
        ).start()


def run(options: dict[str, Any], sockets: list[str]) -> None:
    """Serve ``options["target"]`` on the supervisor's socket, reporting on the control socket.

    ``sockets`` are the arguments that name the two sockets (see ``reloadmw.handoff``).
    """
    handoff.ignore_console_signals()
    sock, control = handoff.receive(sockets)
    lock = threading.Lock()

    def tell(event: str, **fields: object) -> None:
        line = json.dumps({"event": event, "pid": os.getpid(), **fields}) + "\n"
        with lock:
            control.sendall(line.encode())

    server: Any = None

    def finish(timeout: float, status: int) -> None:
        server.stop_accepting()
        drained = server.drain(timeout)
        sys.stderr.flush()
        if not drained:
            print(f"reloadmw: pid {os.getpid()} gave up waiting for its requests", file=sys.stderr)
        os._exit(status)

    handover = HandOver(tell, finish)
    try:
        app = targets.load(
            options["target"],
            hook=handover,
            interval=options["interval"],
            extra_files=options["extra_files"],
            exclude=options["exclude"],
            on_change=options["on_change"],
        )
    except targets.TargetError as error:
        tell("error", message=str(error))
        os._exit(2)

    def with_hook(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        environ["reloadmw.hook"] = handover  # for an ini's own [filter:reload] with hook=auto
        return app(environ, start_response)

    server = SERVERS[options["server"]](sock, with_hook)
    if sys.platform != "win32":  # a signal sent to this process alone
        signal.signal(signal.SIGTERM, lambda number, frame: _stop_soon(finish))
    threading.Thread(target=_listen, args=(control, finish), daemon=True).start()
    files = sum(len(instance.watched_files) for instance in middleware.instances)
    tell("ready", files=files)
    server.serve()
    time.sleep(HANDOVER_DRAIN)  # serve() returns on a stop; finish() ends the process


def _listen(control: socket.socket, finish: Callable[[float, int], None]) -> None:
    """Wait for the supervisor's "stop", or for its end to close (it is gone): then stop."""
    with contextlib.suppress(OSError):
        while (data := control.recv(64)) and b"stop" not in data:
            pass
    finish(STOP_DRAIN, 0)


def _stop_soon(finish: Callable[[float, int], None]) -> None:
    threading.Thread(target=finish, args=(STOP_DRAIN, 0), daemon=True).start()


if __name__ == "__main__":
    run(json.loads(sys.argv[1]), sys.argv[2:])
