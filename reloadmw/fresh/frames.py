"""The frames between a worker and a fresh interpreter that answers a request for it.

A frame is one kind byte, the payload's length, then the payload. The interpreter
(``reloadmw.fresh.child``) writes ``I`` (imported) or ``F`` (the import failed, with the
traceback), ``H`` (status and headers, JSON), ``B`` (a piece of the body), ``E`` (the
end) or ``X`` (the application failed after the headers); a request sent to a shared
interpreter (``reloadmw.fresh.shared``) is ``Q`` (the environ's strings, JSON), ``B`` pieces of
its body and ``E``, or ``P`` alone (a probe: the import's outcome only), which it may
answer with ``S`` (stale: a file changed since its
import; another interpreter must answer). ``Frames`` reads an answer on the worker's side.
"""

from __future__ import annotations

import contextlib
import json
import select
import struct
from collections.abc import Iterator
from typing import IO, Protocol

#: A frame: one kind byte, then the payload's length, then the payload.
FRAME = struct.Struct("!cQ")


class Out(Protocol):
    def write(self, data: bytes, /) -> object: ...


def send(out: Out, kind: bytes, payload: bytes = b"") -> None:
    out.write(FRAME.pack(kind, len(payload)) + payload)


class ImportFailed(Exception):
    """The fresh interpreter could not import the application: the traceback."""


class Stale(Exception):
    """The shared interpreter's code is older than the files now: ask a new one."""


class Gone(Exception):
    """The fresh interpreter stopped answering, or took too long."""


class Frames:
    """The read end of a fresh interpreter's frames, for one request: its import's outcome,
    the headers, the body. Subclasses open ``frames`` and say how the interpreter ends."""

    frames: IO[bytes]
    stream: IO[bytes]  # the request's spooled body, closed with the answer
    limit: float  # seconds to wait for each frame
    done: bool = False  # the whole answer was read

    def ended(self) -> str:
        """Why no more frames come."""
        raise NotImplementedError

    def end(self) -> None:
        """Once the frames are read (or given up on): the interpreter is done with."""

    def read(self) -> tuple[bytes, bytes]:
        kind, length = FRAME.unpack(self._exactly(FRAME.size))
        return kind, self._exactly(length)

    def _exactly(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            ready, _, _ = select.select([self.frames], [], [], self.limit)
            if not ready:
                raise Gone(f"the fresh interpreter sent nothing for {self.limit:g}s")
            piece = self.frames.read(size - len(data))
            if not piece:
                raise Gone(self.ended())
            data += piece
        return data

    def expect_import(self) -> None:
        kind, payload = self.read()
        if kind == b"F":
            raise ImportFailed(payload.decode(errors="replace"))
        if kind == b"S":
            raise Stale()
        if kind != b"I":
            raise Gone(f"the fresh interpreter sent {kind!r} before its import")

    def headers(self) -> tuple[str, list[tuple[str, str]]]:
        kind, payload = self.read()
        if kind != b"H":
            raise Gone(f"the fresh interpreter sent {kind!r} instead of headers")
        data = json.loads(payload)
        return data["status"], [(name, value) for name, value in data["headers"]]

    def body(self) -> Iterator[bytes]:
        try:
            while True:
                kind, payload = self.read()
                if kind == b"B":
                    yield payload
                elif kind == b"E":
                    self.done = True
                    return
                else:  # the application failed: cut the response, as it would have been
                    raise Gone("the application failed after its headers (see its traceback)")
        finally:
            self.close()
            self.stream.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.frames.close()
        self.end()
