"""Send a request that the old process holds to its successor, and stream the answer back.

Once a server process has found a change and stopped accepting, the listening
socket's backlog belongs to the next process. A request the old process holds
(the one whose check found the change, or a later one on a keep-alive
connection) is written again, as HTTP/1.1, to the listening address: the new
process accepts it as soon as it is ready, and its answer is streamed to the
client as the old process's response. The client sees one slower response.

Every wait is bounded: the successor has ``START_TIMEOUT`` seconds to answer
(it may be importing a large application), each later read ``READ_TIMEOUT``;
past those the client gets a 503 and the log a line that says why.
"""

from __future__ import annotations

import http.client
import logging
import socket
import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING
from urllib.parse import quote

from .. import pages
from ..options import handoff_timeout

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

log = logging.getLogger("reloadmw")

#: How long the successor may take to start and answer the first bytes (seconds; the
#: environment variable RELOADMW_HANDOFF_TIMEOUT sets another).
START_TIMEOUT = handoff_timeout()  # (a bad value fails serve's start, naming it)
#: How long any later read of its answer may take.
READ_TIMEOUT = 300.0
CHUNK = 1 << 16

#: Headers that belong to one connection, not to the request (RFC 9110, 7.6.1).
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
     "te", "trailer", "transfer-encoding", "upgrade"}
)  # fmt: skip


#: Whether this thread's request was answered by the successor (``forward``): the
#: successor's server logs the request, so the adapter leaves its own line out.
_forwarded = threading.local()


def forwarded() -> bool:
    """Whether this thread's request since the last call was forwarded; clears it."""
    was = getattr(_forwarded, "value", False)
    _forwarded.value = False
    return bool(was)


def successor_address(sock: socket.socket) -> tuple[str, int]:
    """Where to connect to reach whichever process accepts on ``sock`` next."""
    host, port = sock.getsockname()[:2]
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return str(host), int(port)


def _request_head(environ: WSGIEnvironment, body_length: int | None) -> bytes:
    path = quote(str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", "")))
    query = environ.get("QUERY_STRING")
    target = path + (f"?{query}" if query else "") or "/"
    lines = [f"{environ.get('REQUEST_METHOD', 'GET')} {target} HTTP/1.1"]
    for key, value in environ.items():
        if not key.startswith("HTTP_") or not isinstance(value, str):
            continue
        name = key[5:].replace("_", "-").title()
        if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
            lines.append(f"{name}: {value}")
    if environ.get("CONTENT_TYPE"):
        lines.append(f"Content-Type: {environ['CONTENT_TYPE']}")
    # The successor sees the old process as its client: name the real one, so that a
    # remote client still gets no diagnostic details (headers can only take them away).
    lines.append(f"X-Forwarded-For: {environ.get('REMOTE_ADDR') or 'unknown'}")
    if body_length is None:
        lines.append("Transfer-Encoding: chunked")
    else:
        lines.append(f"Content-Length: {body_length}")
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _body_length(environ: WSGIEnvironment) -> int | None:
    """The body's length; None for a body the server ends itself (a chunked upload)."""
    try:
        return max(0, int(environ.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def _send_body(connection: socket.socket, environ: WSGIEnvironment, length: int | None) -> None:
    stream = environ["wsgi.input"]
    if length is None:  # read to the end, which the server marks (wsgi.input_terminated)
        while chunk := stream.read(CHUNK):
            connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        connection.sendall(b"0\r\n\r\n")
        return
    left = length
    while left > 0:
        chunk = stream.read(min(CHUNK, left))
        if not chunk:
            break  # the client sent less than it said: the successor sees the same
        connection.sendall(chunk)
        left -= len(chunk)


def forward(
    environ: WSGIEnvironment, start_response: StartResponse, address: tuple[str, int]
) -> Iterable[bytes]:
    """Answer this request with the successor's answer; a 503 if it cannot be had in time."""
    chunked = not environ.get("CONTENT_LENGTH") and environ.get("wsgi.input_terminated")
    length = None if chunked else _body_length(environ)
    try:
        connection = socket.create_connection(address, timeout=START_TIMEOUT)
    except OSError as error:
        log.warning("could not reach the new server process at %s:%d: %s", *address, error)
        return pages.unavailable(environ, start_response)
    try:
        connection.sendall(_request_head(environ, length))
        _send_body(connection, environ, length)
        response = http.client.HTTPResponse(connection, method=environ.get("REQUEST_METHOD"))
        response.begin()
    except (OSError, http.client.HTTPException) as error:
        connection.close()
        log.warning(
            "the new server process did not answer %s %s within %gs (%s): answered 503",
            environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"), START_TIMEOUT, error,
        )  # fmt: skip
        return pages.unavailable(environ, start_response)
    _forwarded.value = True  # (a 503 of this process's own is not)
    connection.settimeout(READ_TIMEOUT)
    headers = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
    start_response(f"{response.status} {response.reason}", headers)
    return _stream(response, connection)


def _stream(response: http.client.HTTPResponse, connection: socket.socket) -> Iterator[bytes]:
    try:
        while chunk := response.read1(CHUNK) if not response.isclosed() else b"":
            yield chunk
    except (OSError, http.client.HTTPException) as error:
        log.warning("the new server process's answer broke off: %s", error)
    finally:
        response.close()
        connection.close()
