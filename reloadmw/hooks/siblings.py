"""One reload per edit among the sibling workers of one server.

Each worker checks on its own requests, so after one edit every old worker
finds the change in turn. Where the server can replace all its workers at once
(gunicorn's arbiter on SIGHUP, uWSGI's master on ``uwsgi.reload()``), only the
first of them should ask: a later ask would start another round of reloads.

The workers share a small stamp file per server (named after the master's pid)
that names the newest edit asked for: when its newest file was written (wall clock,
nanoseconds, 8 bytes, no later than the ask), written under an exclusive ``flock``.
A worker that finds that edit does not ask again; a later edit (found perhaps by a
worker that is still draining) asks anew. A worker built before the edit runs old
code, and the reload replaces it: it answers no request with its old code
meanwhile. Each worker maps the stamp into memory (``asked``), so it reads it without
a system call. The same name keys the fresh interpreter that answers for the edit
(``reloadmw.fresh.shared``): the check's import pre-flight asks it, before the ask.

These files outlive the server, whose end no worker sees: the first server file a
process creates first removes those of this user's servers that are gone (``sweep``).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import mmap
import os
import re
import shutil
import stat
import struct
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence

_STAMP = struct.Struct("=q")

log = logging.getLogger("reloadmw")


def server_path(server_pid: int, suffix: str) -> str:
    """A small file of this user's for ``server_pid``, in the temporary directory."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return os.path.join(tempfile.gettempdir(), f"reloadmw-{uid}-{server_pid}.{suffix}")


#: A ``server_path``'s name: the user, the server's pid and what the file is for.
_SERVER_FILE = re.compile(r"reloadmw-(\d+)-(\d+)\.(reload|preflight|fresh)")
_swept = False


def sweep(before: str) -> list[str]:
    """Before the server file ``before`` is first made: remove this user's server files
    (``server_path``) whose server is gone, once per process, on UNIX (Windows has none).
    The paths removed.

    A pid that lives again (reused) keeps its files until it is gone too; a server in
    another pid namespace that shares the temporary directory may lose its stamp, which
    costs at most one more reload round (see ``first_to_ask``).
    """
    global _swept
    if _swept or sys.platform == "win32" or os.path.lexists(before):
        return []
    _swept = True
    removed = []
    uid = os.getuid()
    try:
        entries = list(os.scandir(tempfile.gettempdir()))
    except OSError as error:
        log.debug("cannot list the temporary directory: %s", error)
        return []
    for entry in entries:
        found = _SERVER_FILE.fullmatch(entry.name)
        if found is None or int(found[1]) != uid or _alive(int(found[2])):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if info.st_uid != uid:
                continue
            if found[3] == "fresh" and stat.S_ISDIR(info.st_mode):
                shutil.rmtree(entry.path)
            elif stat.S_ISREG(info.st_mode):
                os.unlink(entry.path)
            else:
                continue
        except OSError as error:
            log.debug("cannot remove %s: %s", entry.path, error)
            continue
        removed.append(entry.path)
    if removed:
        log.debug("removed %d files of servers that are gone", len(removed))
    return removed


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (UNIX; one of another user's counts too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def stamp_path(server_pid: int) -> str:
    return server_path(server_pid, "reload")


def changed_at(paths: Sequence[str]) -> int:
    """When the newest of ``paths`` was written (ns, wall clock); now for a missing one, and
    no later than now (a share's clock may run ahead): the edit's name among the siblings."""
    now = time.time_ns()
    times = []
    for path in paths:
        try:
            times.append(os.stat(path).st_mtime_ns)
        except OSError:
            times.append(now)
    return min(max(times, default=now), now)


def first_to_ask(server_pid: int, changed_ns: int) -> bool:
    """Whether a worker that found a change written at ``changed_ns`` should ask
    ``server_pid`` to reload: no ask since then.

    Records the ask when it answers True. Any trouble with the stamp file
    answers True: a second reload round costs less than a missed one.
    """
    return _update(server_pid, lambda known: None if known >= changed_ns else changed_ns)


class Ask:
    """One worker's ask among its siblings: recorded when its check finds a change
    (``record``: before any request of the worker is sent on, which names the edit by
    the stamp), then read by the hook's restart (``first``)."""

    def __init__(self) -> None:
        self._first: bool | None = None

    def record(self, server_pid: int, changed: Sequence[str]) -> bool:
        """Whether this worker asks ``server_pid`` for ``changed`` (none asked since)."""
        self._first = first_to_ask(server_pid, changed_at(changed))
        return self._first

    def first(self, server_pid: int, changed: Sequence[str]) -> bool:
        """Whether this worker asks ``server_pid``: as recorded, or found out now."""
        if self._first is None:
            self.record(server_pid, changed)
        return bool(self._first)


@contextlib.contextmanager
def server_file(path: str) -> Iterator[int | None]:
    """``path`` (a ``server_path``), open and locked (an exclusive ``flock``) in the block:
    its descriptor, or None where there can be none (Windows, a file that cannot be opened).
    """
    if sys.platform == "win32":  # gunicorn and uWSGI run on UNIX only
        yield None
        return
    import fcntl

    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    sweep(before=path)
    try:
        descriptor = os.open(path, flags, 0o600)
    except OSError as error:
        log.debug("cannot open %s: %s", path, error)
        yield None
        return
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield descriptor
    finally:
        # Unlocked first: a map of the file (``asked``) holds a duplicate of the descriptor.
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        os.close(descriptor)


def read_from(descriptor: int, size: int) -> bytes:
    """Up to ``size`` bytes from the start of a ``server_file``."""
    os.lseek(descriptor, 0, os.SEEK_SET)
    return os.read(descriptor, size)


def write_to(descriptor: int, data: bytes) -> None:
    """``data``, all that a ``server_file`` holds from now on. Written over what was there,
    then cut to its length: never shorter meanwhile, for a process that maps the file (the
    stamp, read by every request) would get SIGBUS past its end."""
    os.lseek(descriptor, 0, os.SEEK_SET)
    left = data
    while left:
        left = left[os.write(descriptor, left) :]
    os.ftruncate(descriptor, len(data))


def _update(server_pid: int, new: Callable[[int], int | None]) -> bool:
    """Under the stamp's lock, write ``new(known)`` unless it is None; whether it was
    written (True also on any trouble with the file, and on Windows, where there is none).
    """
    with server_file(stamp_path(server_pid)) as descriptor:
        if descriptor is None:
            return True
        try:
            # Exactly one stamp, or nothing (a new file, or one that is not ours: asked).
            whole = os.fstat(descriptor).st_size == _STAMP.size
            known = _STAMP.unpack(read_from(descriptor, _STAMP.size))[0] if whole else 0
            value = new(known)
            if value is None:
                return False
            write_to(descriptor, _STAMP.pack(value))
            return True
        except OSError as error:
            log.debug("cannot use the reload stamp of pid %d: %s", server_pid, error)
            return True


def asked(server_pid: int) -> ctypes.c_int64:
    """The stamp of ``server_pid``, mapped: its ``value`` is the last ask's time, or 0.

    Any trouble answers a value that stays 0 (as if nobody ever asked).
    """
    with server_file(stamp_path(server_pid)) as descriptor:  # (an ask being written is kept)
        if descriptor is None:
            return ctypes.c_int64(0)
        try:
            if os.fstat(descriptor).st_size != _STAMP.size:
                write_to(descriptor, bytes(_STAMP.size))  # (an ask is never undone)
            shared = mmap.mmap(descriptor, _STAMP.size)
        except (OSError, ValueError) as error:
            log.debug("cannot map the reload stamp of pid %d: %s", server_pid, error)
            return ctypes.c_int64(0)
    return ctypes.c_int64.from_buffer(shared)
