"""In the fresh interpreter: import the entry module, then answer the held requests.

``reloadmw.fresh`` starts it and reads its frames (see there). ``serve`` answers every
old worker of one server for one edit, on a Unix socket in a private directory: each
connection sends a ``Q`` frame (the environ's strings, JSON), the body in ``B`` frames
and ``E``; the interpreter imports once, then answers each connection in a thread, and
ends once no request came for ``IDLE`` seconds. Before each answer it looks whether the
files it imported changed since (``Current``): an edit that no worker asked a new
interpreter for (a worker that imported the module only after the edit saw no change)
is no reason for a stale answer. Then it answers ``S`` to every request, and ends.
``main`` answers one request, whose environ comes in ``ENVIRON_VARIABLE`` (JSON) and
body on standard input (where no such directory can be had).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import tempfile
import threading
import time
import traceback
from typing import IO, TYPE_CHECKING, Any

from .frames import FRAME, Out, send

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

#: Carries the request's environ (JSON) to the fresh interpreter.
ENVIRON_VARIABLE = "RELOADMW_FRESH_ENVIRON"
#: A shared fresh interpreter ends once no request came for this long (seconds), or once
#: its server is gone (looked at every ``LOOK`` seconds).
IDLE = 5.0
LOOK = 0.5


def load(kind: str, name: str, path: str, run_name: str = "__reloadmw_fresh__") -> None:
    """Import the entry module: by name, or run from its file (``kind``: see ``Entry``)."""
    if kind == "module":
        import importlib

        importlib.import_module(name)
    else:
        import runpy

        runpy.run_path(path, run_name=run_name)


def check() -> None:
    """The import pre-flight's interpreter (``reloadmw.fresh.preflight``): the import alone."""
    kind, name, path = sys.argv[1:4]
    load(kind, name, path, run_name="__reloadmw_preflight__")


def _import(kind: str, name: str, path: str, ordinal: int) -> WSGIApplication:
    """Import the entry module; the ReloadMiddleware it built (the ``ordinal``-th)."""
    from ..collect import collecting

    with collecting() as built:
        load(kind, name, path)
    if not built:
        raise LookupError(f"{name or path} built no ReloadMiddleware")
    return built[ordinal] if ordinal < len(built) else built[0]


def main() -> None:
    """Import the entry module, then answer the request on standard input."""
    kind, name, path, ordinal, descriptor = sys.argv[1:6]
    out = os.fdopen(int(descriptor), "wb", buffering=0)
    try:
        app = _import(kind, name, path, int(ordinal))
    except BaseException:
        send(out, b"F", traceback.format_exc().encode(errors="replace"))
        os._exit(1)
    send(out, b"I")
    environ: dict[str, Any] = json.loads(os.environ.pop(ENVIRON_VARIABLE, "{}"))
    _serve_one(app, out, environ, sys.stdin.buffer, threads=False)
    os._exit(0)


def serve() -> None:
    """Import the entry module, then answer every connection on the listening socket,
    until none came for ``IDLE`` seconds or the server is gone; the socket's file goes with
    this process (and the directory with the server)."""
    if sys.platform == "win32":  # (reloadmw.fresh.shared starts none there)
        raise SystemExit("a shared fresh interpreter needs a UNIX")
    kind, name, path, ordinal, descriptor, address, server = sys.argv[2:9]
    if os.fork():  # the worker that started this reaps the first half at once
        os._exit(0)
    os.setsid()  # (no signal sent to the old worker's group reaches it)
    listener = socket.socket(fileno=int(descriptor))
    since = time.time_ns()
    try:
        app: WSGIApplication | None = _import(kind, name, path, int(ordinal))
        failure, current = b"", Current(app, since)
    except BaseException as error:
        app, failure = None, traceback.format_exc().encode(errors="replace")
        current = Current(None, since, _named_by(error))
        print(f"reloadmw: not restarting: importing {name or path} fails:\n{failure.decode()}",
              file=sys.stderr, flush=True)  # fmt: skip
    threads: list[threading.Thread] = []
    gone = threading.Event()  # the socket's file is gone: no new connection comes

    def leave() -> None:
        if not gone.is_set():
            gone.set()
            with contextlib.suppress(OSError):
                os.unlink(address)  # a later connection starts its own interpreter

    def answer(connection: socket.socket) -> None:
        try:
            with connection, connection.makefile("rb") as into:
                out = connection.makefile("wb", buffering=0)
                request = _request(into)  # (None: a probe, for the import's outcome)
                if not current():
                    leave()  # before the answer: its worker then starts the next one
                    send(out, b"S")
                    return
                if app is None:
                    send(out, b"F", failure)
                    return
                send(out, b"I")
                if request is not None:
                    _serve_one(app, out, *request, threads=True)
        except Exception:  # a worker that went away: its request is gone too
            traceback.print_exc()

    def start(connection: socket.socket) -> None:
        connection.setblocking(True)
        thread = threading.Thread(target=answer, args=(connection,), daemon=True)
        thread.start()
        threads.append(thread)

    listener.settimeout(LOOK)
    last = time.monotonic()
    while not gone.is_set():
        try:
            start(listener.accept()[0])
            last = time.monotonic()
        except TimeoutError:
            threads[:] = [thread for thread in threads if thread.is_alive()]
            if threads:
                last = time.monotonic()
            elif time.monotonic() - last >= IDLE or not _alive(int(server)):
                break
    leave()
    if not _alive(int(server)):  # nobody needs the directory any more
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(os.path.dirname(address), "lock"))
            os.rmdir(os.path.dirname(address))
    listener.setblocking(False)
    with contextlib.suppress(OSError):
        while True:  # what came in between
            start(listener.accept()[0])
    for thread in threads:
        thread.join()
    os._exit(0)


class Current:
    """Whether the code that this interpreter imported is what its files hold now: the
    modules' sources, the templates and the extra files of the middleware it imported
    (or, where the import failed, the files its traceback names). Templates alone are
    read again. Thread-safe; once stale, stale for good."""

    def __init__(self, app: object, since_ns: int, named: list[str] | None = None) -> None:
        from ..watch import Watcher

        options = getattr(app, "options", None)
        extra = [*getattr(options, "extra_files", ()), *(named or [])]
        self._watcher = Watcher(
            extra, getattr(options, "exclude", ()),
            bool(getattr(options, "include_site_packages", False)), "stat",
            templates_of=getattr(app, "app", None) if getattr(options, "templates", 0) else None,
            since_ns=since_ns,
        )  # fmt: skip
        self._lock = threading.Lock()
        self.stale = False

    def __call__(self) -> bool:
        with self._lock:
            if not self.stale:
                try:
                    changed = self._watcher.check()
                    self.stale = bool(changed) and not self._watcher.take_templates(changed)
                    if self.stale:
                        print(f"reloadmw: pid {os.getpid()}: {', '.join(changed[:3])} changed "
                              "since this interpreter imported it: another one answers",
                              file=sys.stderr, flush=True)  # fmt: skip
                except Exception:  # no answer is lost for it: this one answers
                    traceback.print_exc()
            return not self.stale


def _named_by(error: BaseException) -> list[str]:
    """The files that a failed import's traceback names (the one that does not compile
    first): an edit to one of them may mend it."""
    named = [getattr(error, "filename", None)] if isinstance(error, SyntaxError) else []
    named += [frame.filename for frame in traceback.extract_tb(error.__traceback__)]
    return [path for path in dict.fromkeys(named) if path and os.path.isfile(path)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # (another user's: alive)
        return True
    return True


def _request(into: IO[bytes]) -> tuple[dict[str, Any], IO[bytes]] | None:
    """The environ's strings and the body (spooled) of one connection's request; None for a
    probe."""

    def frame() -> tuple[bytes, bytes]:
        kind, length = FRAME.unpack(into.read(FRAME.size))
        return kind, into.read(length)

    kind, payload = frame()
    if kind == b"P":
        return None
    if kind != b"Q":
        raise ValueError(f"a request starts with Q, not {kind!r}")
    environ = json.loads(payload)
    body = tempfile.SpooledTemporaryFile(1 << 20)  # noqa: SIM115 - the request's own
    while (piece := frame())[0] == b"B":
        body.write(piece[1])
    body.seek(0)
    return environ, body


def _serve_one(
    app: WSGIApplication, out: Out, environ: dict[str, Any], body: IO[bytes], threads: bool
) -> None:
    environ.update({
        "wsgi.version": (1, 0), "wsgi.input": body, "wsgi.errors": sys.stderr,
        "wsgi.multithread": threads, "wsgi.multiprocess": True, "wsgi.run_once": not threads,
    })  # fmt: skip
    sent: list[bool] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if exc_info is not None and sent:
            raise exc_info[1].with_traceback(exc_info[2])
        send(out, b"H", json.dumps({"status": status, "headers": headers}).encode())
        sent.append(True)
        return lambda data: send(out, b"B", bytes(data)) if data else None

    try:
        result = app(environ, start_response)
        try:
            for piece in result:
                if piece:
                    if not sent:
                        raise RuntimeError("the application sent a body before start_response")
                    send(out, b"B", bytes(piece))
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if not sent:
            send(out, b"H", json.dumps({"status": "200 OK", "headers": []}).encode())
        send(out, b"E")
    except Exception:
        traceback.print_exc()
        if sent:
            send(out, b"X")
            return
        send(out, b"H", json.dumps({"status": "500 Internal Server Error", "headers": [
            ("Content-Type", "text/plain; charset=utf-8")]}).encode())  # fmt: skip
        send(out, b"B", b"Internal Server Error")
        send(out, b"E")
