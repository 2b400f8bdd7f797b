"""The small interface every server behind ``reloadmw serve`` offers, and the servers by name.

An adapter runs a WSGI application on a socket that the supervisor owns, and
can stop gracefully: ``serve`` until stopped, ``stop_accepting`` (new
connections then wait in the backlog for the next process), and ``drain``
(wait until every response in flight has been sent to its last byte).
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Protocol

from ..options import SERVERS

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

#: The servers, as ``--server`` accepts them; the first is the default.


class Adapter(Protocol):
    def serve(self) -> None:
        """Serve until ``stop_accepting``; may return before the responses are drained."""

    def stop_accepting(self) -> None:
        """Take no new connection; returns once none can be taken (not from ``serve``'s thread)."""

    def drain(self, timeout: float) -> bool:
        """Wait until no response is in flight; False when ``timeout`` ran out first."""


def open_adapter(server: str, sock: socket.socket, app: WSGIApplication) -> Adapter:
    """The adapter for ``server`` (one of SERVERS), serving ``app`` on ``sock``."""
    if server == "waitress":
        from .waitress_adapter import WaitressServer

        return WaitressServer(sock, app)
    if server == "wsgiref":
        from .wsgiref_adapter import ThreadedServer

        return ThreadedServer(sock, app)
    raise ValueError(f"reloadmw serve: unknown server {server!r}; expected one of {SERVERS}")
