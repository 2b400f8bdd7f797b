"""One tag added to HTML pages on their way out: the live-reload script's (see ``reloadmw.live``).

A response gets the tag, before its last ``</body>`` (at the end when there is
none), when a browser shows it as a page: not a HEAD request, not a fetch of a
fragment (``Sec-Fetch-Dest`` other than ``document``, ``iframe`` or ``frame``),
a status with a body (not 204, 205, 206 or 304), ``Content-Type: text/html`` in an
ASCII-compatible charset, no ``Content-Encoding``, not an attachment, a body no
longer than ``LIMIT`` with none written through ``write()``, and no tag already
(a page that another process of this server answered). ``Content-Length``, when
there is one, is corrected. Any other response, and every response when
something goes wrong here, passes through as the application made it; the
application's ``close()`` runs when the server closes the response, as before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("reloadmw")

#: The largest body that is held back to take the tag; a longer one passes as it is.
LIMIT = 4 * 1024 * 1024
#: In every tag: a body that has it already gets no second one.
MARK = b"data-reloadmw="

Headers = list[tuple[str, str]]
#: Makes the tag for a response with these headers, or None (it says why, at DEBUG).
MakeTag = Callable[[Headers], bytes | None]

_PAGES = ("document", "iframe", "frame")
_NO_BODY = (204, 205, 206, 304)


def wanted(environ: WSGIEnvironment) -> bool:
    """Whether the request is one for a page that a browser shows."""
    return environ.get("REQUEST_METHOD") != "HEAD" and (
        environ.get("HTTP_SEC_FETCH_DEST", "document") in _PAGES
    )


def _header(headers: Headers, name: str) -> str:
    return next((value for key, value in headers if key.lower() == name), "")


def is_page(status: str, headers: Headers) -> bool:
    """Whether a response with this status and these headers can take the tag."""
    try:
        code = int(status[:3])
    except ValueError:
        return False
    media, _, parameters = _header(headers, "content-type").partition(";")
    charset = parameters.lower().replace(" ", "").partition("charset=")[2].strip("\"'")
    return (
        code >= 200
        and code not in _NO_BODY
        and media.strip().lower() == "text/html"
        and not charset.startswith(("utf-16", "utf-32", "ucs"))
        and _header(headers, "content-encoding").strip().lower() in ("", "identity")
        and not _header(headers, "content-disposition").strip().lower().startswith("attachment")
    )


def insert(body: bytes, tag: bytes) -> bytes:
    """``body`` with ``tag`` before its last ``</body>``, or at its end."""
    at = body.lower().rfind(b"</body")
    return body + tag if at < 0 else body[:at] + tag + body[at:]


class _Held:
    """The application's ``start_response``, held back while the body may take the tag."""

    def __init__(self, start_response: StartResponse) -> None:
        self._start_response = start_response
        self.status = ""
        self.headers: Headers = []
        self.sent = False  # the server's start_response was called
        self._write: Callable[[bytes], object] | None = None

    def start_response(self, status: str, headers: Headers, exc_info: Any = None) -> Any:
        if self.sent or not is_page(status, headers):
            self.sent = True
            if exc_info is not None:
                return self._start_response(status, headers, exc_info)
            return self._start_response(status, headers)
        self.status, self.headers = status, list(headers)
        return self.write

    def write(self, data: bytes) -> None:
        """The application writes: its headers and what it writes go out as they are."""
        self.send(self.headers)
        assert self._write is not None
        self._write(data)

    def send(self, headers: Headers) -> None:
        if not self.sent:
            self.sent = True
            self._write = self._start_response(self.status, headers)


class _Body:
    """What was read of the application's body, then the rest; ``close()`` closes it."""

    def __init__(self, pieces: list[bytes], rest: Iterator[bytes] | None, result: Any) -> None:
        self._pieces = pieces
        self._rest = rest
        self._result = result

    def __iter__(self) -> Iterator[bytes]:
        yield from self._pieces
        if self._rest is not None:
            yield from self._rest

    def close(self) -> None:
        close = getattr(self._result, "close", None)
        if close is not None:
            close()


def add_tag(
    environ: WSGIEnvironment, start_response: StartResponse, app: WSGIApplication, tag: MakeTag
) -> Iterable[bytes]:
    """``app``'s response, with the tag that ``tag`` makes where it is a page (see above)."""
    if not wanted(environ):
        return app(environ, start_response)
    held = _Held(start_response)
    result = app(environ, held.start_response)
    if held.sent:
        return result  # not a page, or written: untouched
    pieces: list[bytes] = []
    size, whole = 0, True
    iterator = iter(result)
    try:
        for piece in iterator:
            pieces.append(piece)
            size += len(piece)
            if held.sent or size > LIMIT:  # not a page after all (a late start_response)
                whole = False
                break
    except BaseException:
        _Body([], None, result).close()
        raise
    if held.sent or not held.status:
        return _Body(pieces, iterator, result)  # (no start_response: the server says so)
    if not whole:
        held.send(held.headers)
        return _Body(pieces, iterator, result)
    body, headers = b"".join(pieces), held.headers
    try:
        made = tag(headers) if MARK not in body else None
        if made is not None:
            body = insert(body, made)
            headers = [
                (name, str(len(body)) if name.lower() == "content-length" else value)
                for name, value in headers
            ]
    except Exception:
        log.exception("could not add the live-reload tag; the page goes out as it is")
        body, headers = b"".join(pieces), held.headers
    held.send(headers)
    return _Body([body], None, result)
