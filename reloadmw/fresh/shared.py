"""One fresh interpreter per edit for every old worker of a server (gunicorn, uWSGI).

After an edit, each old worker that gets a request before the server replaces it holds
that request for the new code (``reloadmw.fresh``). Rather than one interpreter per
request (each importing the application: under a page's assets and four workers, dozens
per edit), the first worker starts one for the edit, listening on a Unix socket in a
directory of this user's alone (mode 0700, named after the server's pid), and every old
worker sends its held requests there; the interpreter imports once, answers each in a
thread, and ends once none came for a few seconds (``reloadmw.fresh.child.serve``). The
edit's name is the siblings' shared stamp (the time of the last ask), so a later edit
gets an interpreter of its own. Nothing listens on the network.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import socket
import stat
import subprocess
import sys
from typing import TYPE_CHECKING

from ..collect import Entry
from . import preflight
from .frames import FRAME, Frames

if TYPE_CHECKING:
    from typing import IO

log = logging.getLogger("reloadmw")

#: How long a worker waits for the interpreter it started to be listening.
START_TIMEOUT = 10.0
_PIECE = 64 * 1024


class Sent(Frames):
    """One held request, sent to the fresh interpreter that answers for ``edit``; the read
    end of its answer. With no request (``carried`` None), a probe: the interpreter says
    how its import went (``I`` or ``F``), and nothing more. OSError where it cannot be sent.
    """

    def __init__(
        self,
        entry: Entry,
        ordinal: int,
        edit: int,
        stream: IO[bytes],
        carried: dict[str, str] | None,
        limit: float,
    ) -> None:
        connection = connect(entry, ordinal, edit)
        try:
            if carried is None:
                connection.sendall(FRAME.pack(b"P", 0))
            else:
                data = json.dumps(carried).encode()
                connection.sendall(FRAME.pack(b"Q", len(data)) + data)
                while piece := stream.read(_PIECE):
                    connection.sendall(FRAME.pack(b"B", len(piece)) + piece)
                connection.sendall(FRAME.pack(b"E", 0))
        except BaseException:
            connection.close()
            raise
        self.connection = connection
        self.stream = stream
        self.frames = connection.makefile("rb", buffering=0)  # type: ignore[assignment]
        self.limit = limit

    def ended(self) -> str:
        return "the fresh interpreter closed the connection"

    def end(self) -> None:
        self.connection.close()  # the interpreter answers others, and ends on its own


def directory() -> str | None:
    """This server's private directory for the sockets, made if missing; None where there
    can be none (Windows, or a path that is not a directory of ours with mode 0700)."""
    if sys.platform == "win32" or not hasattr(socket, "AF_UNIX"):
        return None
    from ..hooks.siblings import server_path, sweep

    path = server_path(os.getppid(), "fresh")
    sweep(before=path)
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    try:
        found = os.lstat(path)
    except OSError:
        return None
    mine = found.st_uid == os.getuid() and stat.S_IMODE(found.st_mode) == 0o700
    if not stat.S_ISDIR(found.st_mode) or not mine:
        log.debug("%s is not a private directory of this user's: no shared interpreter", path)
        return None
    return path


def connect(entry: Entry, ordinal: int, edit: int) -> socket.socket:
    """A connection to the fresh interpreter that answers for ``edit``, started by this
    worker where no other did yet (under a lock: one per edit). OSError where it cannot."""
    if sys.platform == "win32":  # gunicorn and uWSGI run on UNIX only
        raise OSError(errno.ENOSYS, "no shared fresh interpreter on Windows")
    import fcntl

    where = directory()
    if where is None:
        raise OSError(errno.ENOENT, "no private directory for the fresh interpreter")
    address = os.path.join(where, f"{edit}.sock")
    lock = os.open(os.path.join(where, "lock"), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with contextlib.suppress(FileNotFoundError, ConnectionRefusedError):
            return _connection(address)
        _start(entry, ordinal, address)
        return _connection(address)
    finally:
        os.close(lock)  # (and the lock with it)


def _connection(address: str) -> socket.socket:
    if sys.platform == "win32":
        raise OSError(errno.ENOSYS, "no Unix socket on Windows")
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(address)
    except BaseException:
        connection.close()
        raise
    return connection


def _start(entry: Entry, ordinal: int, address: str) -> None:
    """Listen at ``address`` and start the interpreter that answers there."""
    if sys.platform == "win32":
        raise OSError(errno.ENOSYS, "no Unix socket on Windows")
    executable = preflight.python()
    if executable is None:
        raise OSError(errno.ENOENT, f"no Python interpreter beside {sys.executable}")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(address)  # one that ended without taking its socket's file along
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(address)
        listener.listen(64)
        descriptor = listener.fileno()
        arguments = [entry.kind, entry.name, entry.path, str(ordinal), str(descriptor),
                     address, str(os.getppid())]  # fmt: skip
        process = subprocess.Popen(
            [executable, "-c", "from reloadmw.fresh.child import serve; serve()", "serve",
             *arguments],
            cwd=os.getcwd(), env=preflight.fresh_environment(RELOADMW_FRESH="shared"),
            stdin=subprocess.DEVNULL, stdout=2, pass_fds=(descriptor,),
        )  # fmt: skip
        try:
            process.wait(START_TIMEOUT)  # its first half, which forks the interpreter off
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise OSError(errno.ETIMEDOUT, "the fresh interpreter did not start") from None
    log.info("a fresh interpreter answers for the old workers until they are replaced")
