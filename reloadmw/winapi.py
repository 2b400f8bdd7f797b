"""Apache on Windows: ``ap_signal_parent`` through ctypes.

httpd's ``server/mpm/winnt/mpm_winnt.h`` declares ``void ap_signal_parent(
ap_signal_parent_e type)``, exported only by the winnt MPM's ``libhttpd.dll``,
as ``__stdcall``: hence WinDLL there. Elsewhere the library is loaded with
CDLL, so tests can stand in a small library that exports the same symbol.
"""

from __future__ import annotations

import ctypes
import os
import sys
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
    name = os.fspath(library)
    if sys.platform == "win32":
        loaded: ctypes.CDLL = ctypes.WinDLL(name)
    else:
        loaded = ctypes.CDLL(name)
    try:
        function = loaded.ap_signal_parent
    except AttributeError as error:
        raise OSError(f"{name!r} has no function ap_signal_parent") from error
    function.argtypes = [ctypes.c_int]
    function.restype = None
    return function
