"""One tag added to HTML pages on their way out: the live-reload script's (see ``reloadmw.live``).

A response gets the tag when a browser shows it as a page: the answer to a GET
(never to a POST, whose page a reload would send again), not a fetch of a
fragment (``Sec-Fetch-Dest`` other than ``document``, ``iframe`` or ``frame``), a
status with a page to show (2xx but 204, 205 and 206; 4xx; 5xx), ``Content-Type:
text/html`` in an ASCII-compatible charset, no ``Content-Encoding``, not an
attachment, and no tag already (a page that another process of this server
answered). A body in memory (a list or a tuple), or one whose ``Content-Length``
is at most ``LIMIT``, is read whole and gets the tag before its last ``</body>``
(at its end when that is inside a script or comment, or missing), with
``Content-Length`` corrected and ``ETag`` and ``Last-Modified`` dropped (the body
is no longer the one they name). Any other body streams as it comes, and the tag
follows its last piece. Nothing else changes: every other response passes as
the application made it, as does a body written through ``write()``. The
application's ``close()`` runs when the server closes the response, once.
"""

from __future__ import annotations

import codecs
import itertools
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("reloadmw")

#: The largest body that is held back, whole, to take the tag inside it.
LIMIT = 4 * 1024 * 1024
#: In every tag: a body that has it already gets no second one.
MARK = b"data-reloadmw="

Headers = list[tuple[str, str]]
#: Makes the tag for a response with these headers, or None (it says why, at DEBUG).
MakeTag = Callable[[Headers], bytes | None]

_PAGES = ("document", "iframe", "frame")
_NO_PAGE = (204, 205, 206)
_STALE = ("etag", "last-modified", "content-md5", "digest")
_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
#: Where a tag would be read as text: an open script, comment, style or the like.
_OPENERS = re.compile(rb"<(script|style|textarea|template|title)\b|<!--", re.I)


def wanted(environ: WSGIEnvironment) -> bool:
    """Whether the request is one for a page that a browser shows."""
    return environ.get("REQUEST_METHOD") == "GET" and (
        environ.get("HTTP_SEC_FETCH_DEST", "document") in _PAGES
    )


def _header(headers: Headers, name: str) -> str:
    return next((value for key, value in headers if key.lower() == name), "")


def _ascii_compatible(charset: str) -> bool:
    try:
        return b"</body>".decode(codecs.lookup(charset or "utf-8").name) == "</body>"
    except (LookupError, UnicodeDecodeError):
        return False


def is_page(status: str, headers: Headers) -> bool:
    """Whether a response with this status and these headers can take the tag."""
    try:
        code = int(status[:3])
    except ValueError:
        return False
    media, _, parameters = _header(headers, "content-type").partition(";")
    charset = parameters.lower().replace(" ", "").partition("charset=")[2]
    return (
        ((200 <= code < 300 and code not in _NO_PAGE) or 400 <= code < 600)
        and media.strip().lower() == "text/html"
        and _ascii_compatible(charset.split(";")[0].strip("\"'"))
        and _header(headers, "content-encoding").strip().lower() in ("", "identity")
        and not _header(headers, "content-disposition").strip().lower().startswith("attachment")
    )


def insert(body: bytes, tag: bytes) -> bytes:
    """``body`` with ``tag`` before its last ``</body>``, or at its end when there is none, or
    when that one is inside a script, a comment or the like."""
    lowered = body.lower()
    at = lowered.rfind(b"</body")
    if at < 0:
        return body + tag
    for opened in _OPENERS.finditer(lowered, 0, at):
        closer = b"-->" if opened.group(0) == b"<!--" else b"</" + opened.group(1).lower()
        if lowered.find(closer, opened.end(), at) < 0:
            return body + tag  # unclosed before it: that </body> is text
    return body[:at] + tag + body[at:]


class _Held:
    """The application's ``start_response``, held back while the body may take the tag."""

    def __init__(self, start_response: StartResponse, pieces: list[bytes]) -> None:
        self._start_response = start_response
        self._pieces = pieces  # read and not yet handed on
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
        """The application writes: its headers, what was read and what it writes go out."""
        pending = self._pieces
        self.send(self.headers)
        assert self._write is not None
        while pending:  # (in place: they are no longer the body's)
            self._write(pending.pop(0))
        self._write(data)

    def send(self, headers: Headers) -> None:
        """Call the server's start_response; the pieces read so far are the body's."""
        if not self.sent:
            self.sent = True
            self._pieces = []
            self._write = self._start_response(self.status, headers)


class _Body:
    """The body to send: pieces, then the rest of the application's, then ``after`` unless a
    piece had a tag; an error met while reading is raised when the server reads. ``close()``
    closes the application's."""

    def __init__(
        self,
        pieces: list[bytes],
        result: Any,
        rest: Iterator[bytes] | None = None,
        after: bytes | None = None,
        error: BaseException | None = None,
    ) -> None:
        self._pieces, self._result, self._rest = pieces, result, rest
        self._after, self._error = after, error

    def __iter__(self) -> Iterator[bytes]:
        if self._error is not None:
            raise self._error
        tail, tagged = b"", False
        for piece in itertools.chain(self._pieces, self._rest or ()):
            tagged = tagged or MARK in piece or MARK in tail + piece[: len(MARK)]
            tail = piece[-len(MARK) :]
            yield piece
        if self._after is not None and not tagged:
            yield self._after

    def close(self) -> None:
        close = getattr(self._result, "close", None)
        if close is not None:
            close()


def _length(headers: Headers) -> int | None:
    try:
        return int(_header(headers, "content-length"))
    except ValueError:
        return None


def _made(tag: MakeTag, headers: Headers) -> bytes | None:
    try:
        return tag(headers)
    except Exception:
        log.exception("could not make the live-reload tag; the page goes out as it is")
        return None


def add_tag(
    environ: WSGIEnvironment, start_response: StartResponse, app: WSGIApplication, tag: MakeTag
) -> Iterable[bytes]:
    """``app``'s response, with the tag that ``tag`` makes where it is a page (see above)."""
    if not wanted(environ):
        return app(environ, start_response)
    pieces: list[bytes] = []
    held = _Held(start_response, pieces)
    result = app(environ, held.start_response)
    if held.sent:
        return result  # not a page, or written: untouched
    try:
        iterator = iter(result)
        if not held.status:  # a generator: its first piece starts the response
            pieces.extend(itertools.islice(iterator, 1))
        if held.sent or not held.status:  # not a page, written, or never started
            return _Body(pieces, result, iterator)
        made, length = _made(tag, held.headers), _length(held.headers)
        if made is None or (length or 0) > LIMIT:
            held.send(held.headers)
            return _Body(pieces, result, iterator)
        headers = [(name, value) for name, value in held.headers if name.lower() not in _STALE]
        if length is None and not isinstance(result, (list, tuple)):
            held.send(headers)  # a stream: it goes as it comes, and the tag after it
            return _Body(pieces, result, iterator, after=made)
        for piece in iterator:
            pieces.append(piece)
            if held.sent:  # written
                return _Body(pieces, result, iterator)
        body = b"".join(pieces)
        if body.startswith(_BOMS) or MARK in body:  # UTF-16 after all; tagged already
            held.send(held.headers)
            return _Body([body], result)
        body = insert(body, made)
    except BaseException as error:  # the application's: the server meets it as it reads
        return _Body([], result, error=error)
    held.send([(k, str(len(body)) if k.lower() == "content-length" else v) for k, v in headers])
    return _Body([body], result)
