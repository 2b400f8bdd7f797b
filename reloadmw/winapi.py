"""All ctypes code: Apache's ``ap_signal_parent`` for mod_wsgi embedded mode on Windows.

httpd's ``server/mpm/winnt/mpm_winnt.h`` declares ``void ap_signal_parent(
ap_signal_parent_e type)``, exported only by the winnt MPM's ``libhttpd.dll``,
as ``__stdcall``: hence WinDLL there. Elsewhere the library is loaded with
CDLL, so tests can stand in a small library that exports the same symbol.
"""

from __future__ import annotations

import ctypes
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
