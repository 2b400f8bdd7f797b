"""uWSGI: a graceful reload of this worker alone, or of the whole server once per edit."""

from __future__ import annotations

import ctypes
import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from . import siblings
from .base import AppInfo, Hook
from .signals import SIGHUP

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

log = logging.getLogger("reloadmw")


class Uwsgi(Hook):
    """uWSGI: a graceful reload, of this worker alone or of the whole server.

    A lone worker that built the application itself (``lazy-apps``) gets
    SIGHUP: it finishes its requests and the master respawns it with fresh
    code. With several workers, or an application imported by the master
    before the fork (a respawned worker would keep the old code), the hook
    calls ``uwsgi.reload()``: the master reloads every worker gracefully, and
    only the first worker to find a change asks (see ``reloadmw.hooks.siblings``).
    """

    name = "uwsgi"
    fresh_answers = True

    def __init__(self) -> None:
        self._module: Any = None
        self._app = AppInfo()
        self._alone = True

    def prepare(self, environ: WSGIEnvironment, *, app: AppInfo) -> bool:
        self._module = sys.modules.get("uwsgi")
        if self._module is None:
            log.warning("the uwsgi module is not loaded: this is not uWSGI; no restart")
            return False
        self._app = app
        built_here = app.pid == os.getpid()
        self._alone = built_here and int(getattr(self._module, "numproc", 1) or 1) <= 1
        return True

    def _master(self) -> int:
        masterpid = getattr(self._module, "masterpid", None)
        return (int(masterpid()) if callable(masterpid) else 0) or os.getppid()

    def asked(self) -> ctypes.c_int64 | None:
        return None if self._alone else siblings.asked(self._master())

    def __call__(self, changed: Sequence[str]) -> None:
        if self._alone:
            os.kill(os.getpid(), SIGHUP)
            return
        if siblings.first_to_ask(self._master(), self._app.built_ns):
            self._module.reload()
        else:
            log.info("uWSGI is already reloading this worker")
