"""uWSGI: a graceful reload of this worker alone, or of the whole server once per edit."""

from __future__ import annotations

import ctypes
import logging
import os
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from . import siblings
from .base import AppInfo, Hook
from .signals import SIGHUP

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

log = logging.getLogger("reloadmw")

#: How long a reload of the whole server waits for the other workers to be idle.
IDLE_WAIT = 2.0


class Uwsgi(Hook):
    """uWSGI: a graceful reload of each worker, or of the whole server.

    Its graceful reloads signal a worker with SIGHUP, and uWSGI 2.0 then cuts a
    response that the worker is writing (``poll(): Interrupted system call``,
    unbit/uwsgi#1375 and #1658), and a worker still loading the application (which
    uWSGI reports idle) runs the master's handler and reloads every worker. So no
    worker signals another: each signals itself once it has answered a request from
    the new code, where nothing can be cut. The worker that finds a change does so
    after the request that found it (``restart_after_answer``); each sibling answers
    its next request from the fresh interpreter (``asked``), then does the same.
    Workers that built the application themselves (``lazy-apps``) are respawned so,
    each with fresh code, while the master and its HTTP router (``--http``) keep
    running. An application imported by the master before the fork (a respawned
    worker would keep the old code) needs ``uwsgi.reload()``, which reloads the
    master, every worker and the router, once no worker is busy (``IDLE_WAIT`` at
    most). Of the workers that find one change, only the first asks (see
    ``reloadmw.hooks.siblings``).
    """

    name = "uwsgi"
    successor = "fresh"
    restart_after_answer = True

    def __init__(self) -> None:
        self._module: Any = None
        self._app = AppInfo()
        self._lazy = True
        self._ask = siblings.Ask()

    def prepare(self, environ: WSGIEnvironment, *, app: AppInfo) -> bool:
        self._module = sys.modules.get("uwsgi")
        if self._module is None:
            log.warning("the uwsgi module is not loaded: this is not uWSGI; no restart")
            return False
        self._app = app
        self._lazy = app.pid == os.getpid()
        return True

    def _master(self) -> int:
        masterpid = getattr(self._module, "masterpid", None)
        return (int(masterpid()) if callable(masterpid) else 0) or os.getppid()

    def asked(self) -> ctypes.c_int64 | None:
        return siblings.asked(self._master())

    def ask(self, changed: Sequence[str]) -> bool:
        return self._ask.record(self._master(), changed)

    def __call__(self, changed: Sequence[str]) -> None:
        if self._lazy:  # this worker has answered from the new code: the master respawns it
            os.kill(os.getpid(), SIGHUP)
        elif changed and self._ask.first(self._master(), changed):
            self._when_idle()
            self._module.reload()
        else:
            log.info("uWSGI is already reloading this worker")

    def _busy(self) -> list[int]:
        """The pids of the other workers that uWSGI reports busy."""
        return [
            int(w["pid"])
            for w in self._module.workers()
            if int(w.get("pid") or 0) not in (0, os.getpid()) and w.get("status") == b"busy"
        ]

    def _when_idle(self) -> None:
        """Wait until no other worker is busy, ``IDLE_WAIT`` at most (every 10 ms)."""
        deadline = time.monotonic() + IDLE_WAIT
        while self._busy():
            if time.monotonic() > deadline:
                log.info("uWSGI workers still busy after %gs: reloading anyway", IDLE_WAIT)
                return
            time.sleep(0.01)
