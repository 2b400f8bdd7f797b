"""The standard library's server as a ``reloadmw serve`` adapter: a thread per request."""

from __future__ import annotations

import contextlib
import selectors
import socket
import socketserver
import threading
import time
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from ..live import PREFIX
from .forward import forwarded

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


class _Handler(WSGIRequestHandler):
    """The standard library's handler, without an access line for an open page's poll
    (one a second while a page is open: it would bury the application's own lines), nor
    for a request that the successor answered (it logs that one itself; each request has a
    thread of its own, so the mark ``forwarded`` reads is this request's)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if not forwarded() and not self.path.startswith(f"{PREFIX}poll"):
            super().log_request(code, size)


class ThreadedServer(socketserver.ThreadingMixIn, WSGIServer):
    """The standard library's WSGI server, a thread per request, on a given socket."""

    daemon_threads = True  # in-flight requests are counted and drained here instead

    def __init__(self, sock: socket.socket, app: WSGIApplication) -> None:
        host, port = sock.getsockname()[:2]
        super().__init__((host, port), _Handler, bind_and_activate=False)
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
        self._stopping, self._stopped = threading.Event(), threading.Event()
        self._wake_read, self._wake_write = socket.socketpair()

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = self.socket.accept()  # BlockingIOError: another took it
        connection.setblocking(True)
        return connection, address

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._idle:
            self._active += 1  # before the thread starts, so a drain cannot miss it
        try:
            super().process_request(request, client_address)
        except BaseException:  # no thread: nothing will count it down
            with self._idle:
                self._active -= 1
                self._idle.notify_all()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def serve(self) -> None:
        """Accept until ``stop_accepting``. It waits on the socket and on a wake-up pair with
        no timeout (``serve_forever`` looks every ``poll_interval``): an idle process sleeps,
        and a hand-over does not wait for the next look."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.socket, selectors.EVENT_READ)
            selector.register(self._wake_read, selectors.EVENT_READ)
            while not self._stopping.is_set():
                ready = selector.select()
                if not self._stopping.is_set() and any(
                    key.fileobj is self.socket for key, _ in ready
                ):
                    self._take()
        self._stopped.set()
        self._wake_read.close()
        self._wake_write.close()

    def _take(self) -> None:
        """Accept one connection and start its thread (as ``serve_forever`` does)."""
        try:
            request, address = self.get_request()
        except BlockingIOError:  # another process took it first
            return
        except OSError:  # out of descriptors, say: do not spin on a readable socket
            time.sleep(0.05)
            return
        try:
            self.process_request(request, address)
        except Exception:
            self.handle_error(request, address)
            self.shutdown_request(request)

    def stop_accepting(self) -> None:
        """Stop the accept loop, and wait until it has stopped (not from its own thread)."""
        self._stopping.set()
        with contextlib.suppress(OSError):  # (closed: it has stopped already)
            self._wake_write.send(b"x")
        self._stopped.wait(5)

    def drain(self, timeout: float) -> bool:
        """Wait until no request is in flight; False if ``timeout`` ran out first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._active == 0, timeout)
