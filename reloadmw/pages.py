"""Every response reloadmw makes itself: its pages, built with WebOb, and small answers.

Details (paths, source lines, tracebacks) go only to clients on a loopback
address, judged from ``REMOTE_ADDR`` and from every forwarding header a proxy
on this host may have added: a header can take details away, never grant them.
Everything shown is HTML-escaped. Text or HTML follows the ``Accept`` header.
"""

from __future__ import annotations

import dataclasses
import html
import ipaddress
import os
import traceback
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from webob import Request, Response

from .syntax import Problem
from .watch.sources import OWN, is_site_path, library_dirs

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

#: Headers through which a proxy names the client it forwards for.
FORWARDING_HEADERS = (
    "HTTP_FORWARDED",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_REAL_IP",
    "HTTP_X_CLIENT_IP",
    "HTTP_CLIENT_IP",
    "HTTP_TRUE_CLIENT_IP",
    "HTTP_CF_CONNECTING_IP",
)


def user_traceback(error: BaseException) -> str:
    """The traceback as Python prints it, without the frames of reloadmw and of importlib's
    machinery (a first frame in reloadmw reads as its fault), under the innermost frame of the
    user's own code (not the standard library's, nor site-packages'): where to look first."""
    stdlib, site = library_dirs()
    frames = traceback.extract_tb(error.__traceback__)
    if isinstance(error, SyntaxError) and error.filename:
        frames.append(traceback.FrameSummary(error.filename, error.lineno or 0, "", line=""))
    users = [f for f in frames if os.path.isabs(f.filename) and not f.filename.startswith(
        (OWN, *stdlib)) and not is_site_path(f.filename, site)]  # fmt: skip
    where = ""
    if users:
        frame = users[-1]
        source = f"\n    {frame.line.strip()}" if frame.line else ""
        where = f"{_shown_path(frame.filename)}, line {frame.lineno}{source}\n\n"
    shown = traceback.TracebackException.from_exception(error)
    parts, seen = [shown], set()
    while parts:  # the exception, its cause and context, and theirs
        part = parts.pop()
        if id(part) in seen:
            continue
        seen.add(id(part))
        kept = [f for f in part.stack if not f.filename.startswith((OWN, "<frozen importlib"))]
        part.stack = traceback.StackSummary.from_list(kept)
        parts += [p for p in (part.__cause__, part.__context__) if p is not None]
    return where + "".join(shown.format())


def _shown_path(path: str) -> str:
    """``path`` from the working directory (the project's root), where it is under it."""
    if not os.path.isabs(path):
        return path
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive, on Windows
        return path
    return path if relative.startswith(os.pardir) else relative


def _is_loopback(address: str) -> bool:
    address = address.strip().strip('"').strip()
    if address.startswith("["):  # "[::1]:1234"
        address = address[1 : address.find("]")]
    elif address.count(":") == 1:  # "127.0.0.1:1234"
        address = address.split(":")[0]
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _forwarded_for(value: str) -> list[str]:
    """Addresses named in a forwarding header (RFC 7239 ``for=`` or plain lists)."""
    found = []
    for part in value.replace(";", ",").split(","):
        key, equals, rest = part.strip().partition("=")
        if not equals:
            found.append(key)  # X-Forwarded-For style: a plain list of addresses
        elif key.strip().lower() == "for":
            found.append(rest)
    return found


def is_local(environ: WSGIEnvironment) -> bool:
    """Whether the client is on this host: loopback address, every proxy hop too."""
    if not _is_loopback(str(environ.get("REMOTE_ADDR") or "")):
        return False
    for header in FORWARDING_HEADERS:
        value = environ.get(header)
        if value is not None and not all(map(_is_loopback, _forwarded_for(str(value)))):
            return False
    return True


def _respond(
    environ: WSGIEnvironment,
    start_response: StartResponse,
    status: int,
    title: str,
    text: str,
    headers: Sequence[tuple[str, str]] = (),
    refresh: int | None = None,
) -> Iterable[bytes]:
    offers = Request(environ).accept.acceptable_offers(["text/plain", "text/html"])
    kind = offers[0][0] if offers else "text/plain"
    if kind == "text/html":
        meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
        body = (
            f"<!doctype html><html><head><meta charset=utf-8>{meta}"
            f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>"
            f"<pre>{html.escape(text)}</pre></body></html>\n"
        )
    else:
        body = f"{title}\n\n{text}\n" if text else f"{title}\n"
    response = Response(
        body=body.encode("utf-8"), status=status, content_type=kind, charset="utf-8"
    )
    response.headers["Cache-Control"] = "no-store"
    for name, value in headers:
        response.headers[name] = value
    return response(environ, start_response)


def unavailable(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """A plain 503 that says nothing about the code."""
    return _respond(environ, start_response, 503, "Service Unavailable", "")


def syntax_error(
    problems: Sequence[Problem], environ: WSGIEnvironment, start_response: StartResponse
) -> Iterable[bytes]:
    """500 with each problem for a local client; a plain 503 for any other."""
    if not is_local(environ):
        return unavailable(environ, start_response)
    shown = (dataclasses.replace(each, path=_shown_path(each.path)) for each in problems)
    text = "\n\n".join(map(str, shown))
    text += "\n\nreloadmw restarts the process as soon as the file compiles again."
    return _respond(environ, start_response, 500, "Syntax error in the changed code", text)


def import_error(
    details: str, environ: WSGIEnvironment, start_response: StartResponse
) -> Iterable[bytes]:
    """500 with the traceback for a local client; a plain 500 for any other."""
    if not is_local(environ):
        return _respond(environ, start_response, 500, "Internal Server Error", "")
    text = details + (
        "\nreloadmw tries again when a file of this traceback is saved, or the module it could "
        "not find is written."
    )
    return _respond(environ, start_response, 500, "The application failed to import", text)


def application_error(
    error: BaseException, environ: WSGIEnvironment, start_response: StartResponse
) -> Iterable[bytes]:
    """500 with the traceback of an error that the application let out before it began its
    response (the server's own page says only "A server error occurred"); local clients only:
    the caller re-raises for any other."""
    importing = isinstance(error, ImportError | SyntaxError)
    title = "The application failed to import" if importing else "The application failed"
    text = user_traceback(error) + "\nreloadmw restarts the process when a watched file changes."
    return _respond(environ, start_response, 500, title, text)


def retry(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """503 with ``Retry-After: 1`` and a page that reloads itself once the code is fresh."""
    return _respond(
        environ,
        start_response,
        503,
        "Reloading the code",
        "The code changed; this page reloads itself in a second.",
        headers=[("Retry-After", "1")],
        refresh=1,
    )


def send(start_response: StartResponse, status: str, kind: str, body: bytes) -> list[bytes]:
    """A small fixed answer of reloadmw's own (the live-reload script, a poll's JSON): no
    negotiation, never cached, never sniffed."""
    start_response(status, [
        ("Content-Type", f"{kind}; charset=utf-8"), ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"),
    ])  # fmt: skip
    return [body]
