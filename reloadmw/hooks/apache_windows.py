"""Apache on Windows, mod_wsgi embedded mode: ``ap_signal_parent`` through ctypes.

httpd's ``server/mpm/winnt/mpm_winnt.h`` declares ``void ap_signal_parent(
ap_signal_parent_e type)``, exported only by the winnt MPM's ``libhttpd.dll``,
as ``__stdcall``: hence WinDLL there. Elsewhere the library is loaded with
CDLL, so tests can stand in a small library that exports the same symbol.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .base import AppInfo, Hook

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

log = logging.getLogger("reloadmw")

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


class ApacheSignalParent(Hook):
    """Windows, mod_wsgi embedded mode: ``ap_signal_parent(signal_type)`` through ctypes.

    :param library: the DLL that exports ``ap_signal_parent``, as a name or a
        path; default ``"libhttpd"``, the Apache process's own. Loaded with
        WinDLL on Windows and CDLL elsewhere.
    :param signal_type: 0 shutdown, 1 restart (default), 2 graceful restart;
        the winnt MPM handles 1 and 2 alike: the parent starts a new child and
        the old one finishes its requests (up to Apache's ``Timeout``).
    """

    name = "apache-windows"

    def __init__(self, library: str | os.PathLike[str] = "libhttpd", signal_type: int = 1) -> None:
        if not isinstance(library, (str, os.PathLike)) or not os.fspath(library):
            raise TypeError(
                f"ApacheSignalParent library: expected a name or path, got {library!r}"
            )
        valid = (
            SIGNAL_PARENT_SHUTDOWN,
            SIGNAL_PARENT_RESTART,
            SIGNAL_PARENT_RESTART_GRACEFUL,
        )
        if isinstance(signal_type, bool) or signal_type not in valid:
            raise ValueError(
                f"ApacheSignalParent signal_type: expected 0 (shutdown), 1 (restart) or "
                f"2 (graceful restart), got {signal_type!r}"
            )
        self.library = library
        self.signal_type = signal_type
        self._function: Callable[[int], None] | None = None

    def load(self) -> Callable[[int], None]:
        """Load ``ap_signal_parent``; raises OSError when it is not there."""
        if self._function is None:
            self._function = load_signal_parent(self.library)
        return self._function

    def prepare(self, environ: WSGIEnvironment, *, app: AppInfo) -> bool:
        try:
            self.load()
        except OSError as error:
            log.warning(
                "cannot restart through Apache's ap_signal_parent (library %r): %s; "
                "reloadmw will not restart",
                os.fspath(self.library),
                error,
            )
            return False
        return True

    def __call__(self, changed: Sequence[str]) -> None:
        self.load()(self.signal_type)
