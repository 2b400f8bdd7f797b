"""All ctypes code: Apache's ``ap_signal_parent`` on Windows, and Linux's inotify.

httpd's ``server/mpm/winnt/mpm_winnt.h`` declares ``void ap_signal_parent(
ap_signal_parent_e type)``, exported only by the winnt MPM's ``libhttpd.dll``,
as ``__stdcall``: hence WinDLL there. Elsewhere the library is loaded with
CDLL, so tests can stand in a small library that exports the same symbol.

inotify comes from the C library (``inotify_init1``, ``inotify_add_watch``);
its file descriptor is then read with ``os.read``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from collections.abc import Callable

#: ``ap_signal_parent_e`` values; the winnt MPM handles RESTART and
#: RESTART_GRACEFUL alike (a graceful restart of the child process).
SIGNAL_PARENT_SHUTDOWN = 0
SIGNAL_PARENT_RESTART = 1
SIGNAL_PARENT_RESTART_GRACEFUL = 2


def load_signal_parent(library: str | os.PathLike[str]) -> Callable[[int], None]:
    """Return ``ap_signal_parent`` from ``library`` (a name, or a path).

    Raises OSError when the library cannot be loaded or lacks the function.
    """
    loader = getattr(ctypes, "WinDLL", None) if os.name == "nt" else ctypes.CDLL
    assert loader is not None
    try:
        function = loader(os.fspath(library)).ap_signal_parent
    except AttributeError as error:
        raise OSError(f"{os.fspath(library)!r} has no function ap_signal_parent") from error
    function.argtypes = [ctypes.c_int]
    function.restype = None
    return function


# inotify(7) constants, from <sys/inotify.h>.
IN_MODIFY = 0x00000002
IN_ATTRIB = 0x00000004
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_DELETE_SELF = 0x00000400
IN_MOVE_SELF = 0x00000800
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000
IN_ONLYDIR = 0x01000000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = getattr(os, "O_CLOEXEC", 0o2000000)

_libc: ctypes.CDLL | None = None


def _c_library() -> ctypes.CDLL:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return _libc


def inotify_init() -> int:
    """A non-blocking inotify descriptor; OSError where there is none (not Linux, no fds)."""
    try:
        function = _c_library().inotify_init1
    except (OSError, AttributeError) as error:
        raise OSError(0, f"no inotify in the C library: {error}") from error
    descriptor = int(function(IN_NONBLOCK | IN_CLOEXEC))
    if descriptor < 0:
        number = ctypes.get_errno()
        raise OSError(number, os.strerror(number))
    return descriptor


def inotify_add_watch(descriptor: int, path: str, mask: int) -> int:
    """Watch ``path``; OSError with ENOSPC when the per-user watch limit is reached."""
    watch = int(
        _c_library().inotify_add_watch(descriptor, os.fsencode(path), ctypes.c_uint32(mask))
    )
    if watch < 0:
        number = ctypes.get_errno()
        raise OSError(number, os.strerror(number), path)
    return watch
