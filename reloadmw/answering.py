"""In the fresh interpreter: import the entry module, then answer one request.

``reloadmw.fresh`` starts it and reads its frames (see there); the request's
environ comes in ``ENVIRON_VARIABLE`` (JSON), its body on standard input.
"""

from __future__ import annotations

import json
import os
import struct
import sys
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

#: Carries the request's environ (JSON) to the fresh interpreter.
ENVIRON_VARIABLE = "RELOADMW_FRESH_ENVIRON"
#: A frame: one kind byte, then the payload's length, then the payload.
FRAME = struct.Struct("!cQ")


def _send(out: IO[bytes], kind: bytes, payload: bytes = b"") -> None:
    out.write(FRAME.pack(kind, len(payload)) + payload)


def main() -> None:
    """Import the entry module, then answer the request on standard input."""
    kind, name, path, ordinal, descriptor = sys.argv[1:6]
    out = os.fdopen(int(descriptor), "wb", buffering=0)
    from .collect import collecting

    try:
        with collecting() as built:
            if kind == "module":
                import importlib

                importlib.import_module(name)
            else:
                import runpy

                runpy.run_path(path, run_name="__reloadmw_fresh__")
        if not built:
            raise LookupError(f"{name or path} built no ReloadMiddleware")
    except BaseException:
        import traceback

        _send(out, b"F", traceback.format_exc().encode(errors="replace"))
        os._exit(1)
    _send(out, b"I")
    app = built[int(ordinal)] if int(ordinal) < len(built) else built[0]
    _serve_one(app, out)
    os._exit(0)


def _serve_one(app: WSGIApplication, out: IO[bytes]) -> None:
    environ: dict[str, Any] = json.loads(os.environ.pop(ENVIRON_VARIABLE, "{}"))
    environ.update({
        "wsgi.version": (1, 0), "wsgi.input": sys.stdin.buffer, "wsgi.errors": sys.stderr,
        "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": True,
    })  # fmt: skip
    sent: list[bool] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if exc_info is not None and sent:
            raise exc_info[1].with_traceback(exc_info[2])
        _send(out, b"H", json.dumps({"status": status, "headers": headers}).encode())
        sent.append(True)
        return lambda data: _send(out, b"B", bytes(data)) if data else None

    try:
        result = app(environ, start_response)
        try:
            for piece in result:
                if piece:
                    if not sent:
                        raise RuntimeError("the application sent a body before start_response")
                    _send(out, b"B", bytes(piece))
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if not sent:
            _send(out, b"H", json.dumps({"status": "200 OK", "headers": []}).encode())
        _send(out, b"E")
    except Exception:
        import traceback

        traceback.print_exc()
        if sent:
            _send(out, b"X")
            return
        _send(out, b"H", json.dumps({"status": "500 Internal Server Error", "headers": [
            ("Content-Type", "text/plain; charset=utf-8")]}).encode())  # fmt: skip
        _send(out, b"B", b"Internal Server Error")
        _send(out, b"E")
