"""Answer one request with the new code, from a fresh interpreter, while the server restarts.

Under gunicorn and uWSGI the process that finds a change holds the request that
found it: it asks the server for new workers as before, and meanwhile a fresh
interpreter (the pre-flight's, with the same ``sys.path``, working directory and
environment) imports the module that built the middleware and answers that one
request; the answer streams back on the client's connection. Nothing listens and
nothing is forwarded over the network, so no client can forge such a request, and
no server's reload can wait for itself: the old worker's request ends when the
fresh interpreter's answer does, whatever the server does meanwhile.

Under gunicorn and uWSGI the old workers of one edit share one such interpreter
(``reloadmw.fresh.shared``); elsewhere, or where that cannot be, a request gets its own, which
finds the environ's strings (JSON) in its environment and the body on its standard
input, a temporary file, and writes its frames (``reloadmw.fresh.frames``) to a pipe. Its
standard output and errors go to the server's error stream.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from typing import IO, TYPE_CHECKING

from ..collect import Entry
from ..options import HANDOFF_TIMEOUT, handoff_timeout
from ..restart import AfterClose
from . import preflight, shared
from .child import ENVIRON_VARIABLE
from .frames import Frames, Gone, ImportFailed, Stale

__all__ = ["Answer", "Gone", "ImportFailed", "spool"]

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("reloadmw")

#: How many shared interpreters a request tries, each stale (files changing as it
#: imported) before it has one of its own.
ATTEMPTS = 3
_PIECE = 64 * 1024

#: The environ keys that travel: CGI's and the headers; ``wsgi.*`` are made anew.
_TRAVELS = ("wsgi.url_scheme",)


def timeout() -> float:
    """How long the held request waits for the fresh interpreter's next frame (its import,
    the headers, each piece of the body) before it gives up, with a WARNING (the
    middleware checked the environment's word when it was built)."""
    try:
        return handoff_timeout()
    except ValueError:
        return HANDOFF_TIMEOUT


def spool(environ: WSGIEnvironment) -> tuple[IO[bytes], dict[str, str]]:
    """The request's body in an unlinked file, and the environ keys that travel.

    The body is read whole: by its Content-Length, or to its end where the
    server says it ends (a chunked upload under gunicorn).
    """
    carried = {
        key: value
        for key, value in environ.items()
        if isinstance(value, str) and (key.isupper() or key in _TRAVELS)
    }
    stream = tempfile.TemporaryFile()  # noqa: SIM115 - closed when the answer ends
    body = environ.get("wsgi.input")
    length = environ.get("CONTENT_LENGTH") or ""
    if body is not None and length.strip().isdigit():
        left = int(length)
        while left > 0:
            piece = body.read(min(left, _PIECE))
            if not piece:
                break
            stream.write(piece)
            left -= len(piece)
    elif body is not None and environ.get("wsgi.input_terminated"):
        shutil.copyfileobj(body, stream, _PIECE)
    carried["CONTENT_LENGTH"] = str(stream.tell())
    carried.pop("HTTP_TRANSFER_ENCODING", None)
    stream.seek(0)
    return stream, carried


class Answer:
    """One request, answered by a fresh interpreter; ``fallback`` answers if it cannot.

    ``edit()`` names the edit that the server replaces its workers for (the siblings'
    shared stamp: the newest edit asked for), or 0: every old worker of one server sends
    its requests for one edit to one fresh interpreter (``shared``), which imports once.
    Where there is no such name or no private directory, each request gets its own.
    """

    def __init__(
        self,
        entry: Entry,
        ordinal: int,
        fallback: WSGIApplication,
        edit: Callable[[], int] = lambda: 0,
    ) -> None:
        self.entry = entry
        self.ordinal = ordinal
        self.fallback = fallback
        self.edit = edit

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        stream, carried = spool(environ)
        for attempt in range(1, ATTEMPTS + 1):
            try:
                child = self._child(stream, carried, shared_one=attempt < ATTEMPTS)
            except OSError as error:
                log.warning("could not start a fresh interpreter (%s): the old code answers",
                            error)  # fmt: skip
                return self._old(environ, start_response, stream, carried)
            try:
                child.expect_import()
                status, headers = child.headers()
            except Stale:  # a file changed since the shared interpreter's import
                child.close()
                stream.seek(0)
                continue
            except ImportFailed:
                child.close()
                stream.close()
                raise
            except Gone as error:
                child.close()
                log.warning("%s; the old code answers %s", error, environ.get("PATH_INFO", ""))
                return self._old(environ, start_response, stream, carried)
            start_response(status, headers)
            return child.body()
        raise AssertionError("the last attempt has an interpreter of its own")  # pragma: no cover

    def outcome(self, edit: int, key: str) -> str | None:
        """How the import of the new code goes (the gate before a restart): None, or the
        traceback. Asked of the fresh interpreter that then answers for ``edit``, so that one
        change costs one import; where there is none, of the pre-flight (``key``: the files'
        states). A probe that gets no word in time counts as an import that works."""
        if not edit or shared.directory() is None:
            return preflight.shared_failure(self.entry, key)
        for _ in range(ATTEMPTS):
            try:
                probe = shared.Sent(self.entry, self.ordinal, edit, io.BytesIO(), None, timeout())
            except OSError as error:
                log.warning("could not start a fresh interpreter (%s): checking the import "
                            "apart", error)  # fmt: skip
                return preflight.shared_failure(self.entry, key)
            try:
                probe.expect_import()
                return None
            except Stale:  # a file changed since its import: another one imports it
                continue
            except ImportFailed as failure:
                return str(failure)
            except Gone as error:
                log.warning("%s: restarting unchecked", error)
                return None
            finally:
                probe.close()
        return None

    def _child(self, stream: IO[bytes], carried: dict[str, str], shared_one: bool) -> Frames:
        """The interpreter that answers: the edit's shared one where it can be, else one of
        its own (which imports the files as they are now, so is never stale)."""
        edit = self.edit() if shared_one else 0
        if edit and shared.directory() is not None:
            return shared.Sent(self.entry, self.ordinal, edit, stream, carried, timeout())
        return _Child(self.entry, self.ordinal, stream, carried)

    def _old(
        self,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        stream: IO[bytes],
        carried: dict[str, str],
    ) -> Iterable[bytes]:
        stream.seek(0)
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ.update(CONTENT_LENGTH=carried["CONTENT_LENGTH"], **{"wsgi.input": stream})
        try:
            result = self.fallback(environ, start_response)
        except BaseException:
            stream.close()
            raise
        return AfterClose(result, stream.close)  # the spooled body, once answered


class _Child(Frames):
    """A fresh interpreter of its own for one request, and the read end of its frames."""

    def __init__(
        self, entry: Entry, ordinal: int, stream: IO[bytes], carried: dict[str, str]
    ) -> None:
        executable = preflight.python()
        if executable is None:
            raise OSError(f"no Python interpreter beside {sys.executable}")
        read, write = os.pipe()
        env = preflight.fresh_environment(
            **{ENVIRON_VARIABLE: json.dumps(carried), "RELOADMW_FRESH": "request"}
        )
        arguments = [entry.kind, entry.name, entry.path, str(ordinal), str(write)]
        try:
            self.process = subprocess.Popen(
                [executable, "-c", "from reloadmw.fresh.child import main; main()", *arguments],
                cwd=os.getcwd(), env=env, stdin=stream, stdout=2, pass_fds=(write,),
            )  # fmt: skip
        except BaseException:
            os.close(read)
            raise
        finally:
            os.close(write)
        self.stream = stream
        self.frames = os.fdopen(read, "rb", buffering=0)
        self.limit = timeout()

    def ended(self) -> str:
        return f"the fresh interpreter ended (status {self.process.poll()})"

    def end(self) -> None:
        """Once the frames are read (or given up on): the interpreter is done with."""
        process = self.process
        if not self.done and process.poll() is None:
            process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(5)
