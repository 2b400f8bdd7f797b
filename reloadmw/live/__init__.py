"""Live reload: an open page reloads itself once the new code answers. No thread.

With ``live_reload``, every page gets one tag (``reloadmw.live.inject``) that loads
``live.js`` from ``PREFIX``. The tag carries what the page was built from: the
*generation* of the code that answered it, the *version* of the ``live_files``
then (the newest mtime among them), and, on a diagnostic page, a *broken* key.
About once a second while the tab is visible (every 10 s while it is hidden)
the script asks ``PREFIX + "poll"`` with them. That request is an ordinary one:
it drives the rate-limited check, and a change that it finds restarts the
process as any request's would. The answer (JSON, no path or file name in it)
says what to do:

- ``reload``: newer code answers now (a process of a later generation, or the
  fresh answers that follow a change), the page's diagnostic is outdated, a
  live file that is not a stylesheet changed, or a framework's template did (the
  process read it again: see ``reloadmw.watch.templates``);
- ``css`` with a new ``version``: only stylesheets changed; the page swaps its
  own stylesheets in place;
- ``wait``: a change was found and the new code cannot answer yet: ask again
  in 200 ms;
- nothing: ask again later.

A generation is comparable within one server only. Where sibling workers share
a reload stamp (gunicorn, uWSGI), it is the stamp's last ask, the same for every
worker built after it; elsewhere it is the time the process built the
middleware. Where several processes answer with no shared stamp (mod_wsgi
daemon mode with ``processes`` above 1), a page may reload once more after they
start: the script remembers the newest generation it reloaded for (in the tab's
``sessionStorage``) and never reloads twice for one.
"""

from __future__ import annotations

import ctypes
import functools
import glob
import hashlib
import html
import importlib.resources
import json
import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote

from .. import pages as own_pages
from ..pages import send
from ..watch.patterns import compile_excludes
from . import csp, inject

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("reloadmw")

#: Every request under this path is reloadmw's, while live reload is on.
PREFIX = "/__reloadmw__/"
#: The live files are looked at no more often than this (seconds), whoever asks.
LOOK_EVERY = 0.2
STYLESHEETS = (".css",)


@dataclass(frozen=True)
class Now:
    """What a process can say of the code that answers its requests now."""

    generation: int
    restarting: bool = False  # a change was found, and the new code cannot answer yet
    broken: str = ""  # the key of the diagnostic it serves, if it serves one
    templates: int = 0  # the newest mtime among the framework's templates (ns)


def generation(stamp: ctypes.c_int64 | None, built: int) -> int:
    """This process's generation: the siblings' shared stamp (the last ask, which every
    worker built after it shares), or when it was built (also when the stamp is newer than
    that: a later ask replaces this worker)."""
    if stamp is None or stamp.value > built:
        return built
    return stamp.value


def broken_key(details: str) -> str:
    """A short key for a diagnostic, which says nothing of its text."""
    return hashlib.sha256(details.encode(errors="replace")).hexdigest()[:16]


class LiveFiles:
    """The ``live_files``: their mtimes, looked at when asked, ``LOOK_EVERY`` apart at most."""

    def __init__(self, patterns: Iterable[str], exclude: Iterable[str]) -> None:
        self._patterns = tuple(patterns)
        self._excluded = compile_excludes(exclude)
        self.mtimes: dict[str, int] = {}
        self._looked = -LOOK_EVERY
        self.look()

    @property
    def version(self) -> int:
        return max(self.mtimes.values(), default=0)

    def look(self) -> None:
        if not self._patterns or time.monotonic() - self._looked < LOOK_EVERY:
            return
        self._looked = time.monotonic()
        mtimes = {}
        for pattern in self._patterns:
            paths = glob.glob(pattern, recursive=True) if glob.has_magic(pattern) else [pattern]
            for path in paths:
                if self._excluded is not None and self._excluded.fullmatch(path):
                    continue
                try:
                    mtimes[path] = os.stat(path).st_mtime_ns
                except OSError:
                    continue
        self.mtimes = mtimes

    def newer(self, version: int) -> list[str]:
        """The live files written after ``version``."""
        return [path for path, mtime in self.mtimes.items() if mtime > version]


def decide(
    generation: int, version: int, broken: str, now: Now, files: LiveFiles
) -> dict[str, object]:
    """The answer to a page built from ``generation``, ``version`` and ``broken``."""
    if now.broken:
        return {"reload": now.broken != broken}
    if now.restarting:
        return {"wait": True}
    if now.generation > generation:  # (the fix of a diagnostic's error restarts too)
        return {"reload": True, "generation": str(now.generation)}
    if broken:
        return {}
    newer, templates = files.newer(version), now.templates > version
    if not newer and not templates:
        return {}
    if not templates and all(path.endswith(STYLESHEETS) for path in newer):
        return {"css": True, "version": str(max(files.version, now.templates))}
    return {"reload": True}  # (a template edit: the process read it again, no restart)


@functools.cache
def _script() -> bytes:
    return importlib.resources.files(__package__).joinpath("live.js").read_bytes()


def _origin(environ: WSGIEnvironment) -> str:
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}"
    return f"{scheme}://{host.lower()}"


class Live:
    """One middleware's live reload: the tag in its pages, and the answers under ``PREFIX``."""

    def __init__(self, live_files: Iterable[str], exclude: Iterable[str]) -> None:
        self.files = LiveFiles(live_files, exclude)

    @staticmethod
    def asks(environ: WSGIEnvironment) -> bool:
        """Whether the request is the script's (or for anything else under ``PREFIX``)."""
        return str(environ.get("PATH_INFO", "")).startswith(PREFIX)

    def pages(
        self,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        app: WSGIApplication,
        now: Callable[[], Now],
    ) -> Iterable[bytes]:
        """``app``'s response, with the tag where it is a page; ``now()`` once it is made."""

        def tag(headers: inject.Headers) -> bytes | None:
            src = f"{quote(str(environ.get('SCRIPT_NAME', '')))}{PREFIX}"
            allowed = csp.permission(headers, _origin(environ), src)
            if not allowed.allowed:
                log.debug("no live-reload tag in %s: %s", environ.get("PATH_INFO"), allowed.why)
                return None
            self.files.look()
            said = now()
            built = f"{said.generation}.{max(self.files.version, said.templates)}.{said.broken}"
            nonce = f' nonce="{html.escape(allowed.nonce)}"' if allowed.nonce else ""
            return (
                f'<script src="{html.escape(src)}live.js" data-reloadmw="{built}"{nonce} defer>'
                "</script>"
            ).encode()

        return inject.add_tag(environ, start_response, _shown_errors(app), tag)

    def answer(
        self, environ: WSGIEnvironment, start_response: StartResponse, now: Now
    ) -> Iterable[bytes]:
        """The script, or its poll's answer; 404 for anything else under ``PREFIX``."""
        name = str(environ.get("PATH_INFO", ""))[len(PREFIX) :]
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return send(start_response, "405 Method Not Allowed", "text/plain", b"GET only\n")
        if name == "live.js":
            return send(start_response, "200 OK", "text/javascript", _script())
        if name != "poll":
            return send(start_response, "404 Not Found", "text/plain", b"Not Found\n")
        query = parse_qs(str(environ.get("QUERY_STRING", "")))
        try:
            generation = int(query.get("g", ["0"])[0])
            version = int(query.get("v", ["0"])[0])
        except ValueError:
            return send(start_response, "400 Bad Request", "text/plain", b"bad poll\n")
        self.files.look()
        said = decide(generation, version, query.get("b", [""])[0], now, self.files)
        return send(start_response, "200 OK", "application/json", json.dumps(said).encode())


def _shown_errors(app: WSGIApplication) -> WSGIApplication:
    """``app``, whose error before it starts its response is a page with the traceback for a
    local client (the live tag in it: the page reloads once the code is fixed), not the
    server's bare 500. Any other client gets the server's, as before."""

    def showing(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = False

        def noting(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            nonlocal started
            started = True
            return start_response(status, headers, exc_info)

        try:
            return app(environ, noting)
        except Exception as error:
            if started or not own_pages.is_local(environ):
                raise
            log.error("%s %s failed:\n%s", environ.get("REQUEST_METHOD"),
                      environ.get("PATH_INFO"), own_pages.user_traceback(error))  # fmt: skip
            return own_pages.application_error(error, environ, start_response)

    return showing
