"""uWSGI: a graceful reload of this worker alone, or of the whole server once per edit."""

from __future__ import annotations

import ctypes
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
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
    unbit/uwsgi#1375 and #1658). So the worker that finds a change asks only once
    it has answered the request that found it (``restart_after_answer``), and
    signals each sibling when uWSGI reports it idle (waiting ``IDLE_WAIT`` at
    most). Meanwhile the siblings answer from fresh interpreters (``asked``).
    Workers that built the application themselves (``lazy-apps``) each get
    SIGHUP, this one last; the master respawns each with fresh code, while the
    master and its HTTP router (``--http``) keep running. An application imported
    by the master before the fork (a respawned worker would keep the old code)
    needs ``uwsgi.reload()``, which reloads the master, every worker and the
    router. Of the workers that find one change, only the first asks (see
    ``reloadmw.hooks.siblings``).
    """

    name = "uwsgi"
    fresh_answers = True
    restart_after_answer = True

    def __init__(self) -> None:
        self._module: Any = None
        self._app = AppInfo()
        self._lazy = True
        self._first: bool | None = None  # whether this worker asks, once ``ask`` said so

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

    def ask(self, changed: Sequence[str]) -> None:
        self._first = siblings.first_to_ask(self._master(), siblings.changed_at(changed))

    def __call__(self, changed: Sequence[str]) -> None:
        if not changed:
            return  # a sibling found the change: it replaces this worker too
        first = self._first
        if first is None:
            first = siblings.first_to_ask(self._master(), siblings.changed_at(changed))
        if not first:
            log.info("uWSGI is already reloading this worker")
            return
        if not self._lazy:
            self._when_idle(lambda pids: not pids)
            self._module.reload()
            return
        signalled: set[int] = set()

        def signal_idle(busy: list[int]) -> bool:
            for pid in self._others() - set(busy) - signalled:
                os.kill(pid, SIGHUP)
                signalled.add(pid)
            return not busy

        self._when_idle(signal_idle)
        for pid in self._others() - signalled:  # still busy after IDLE_WAIT
            os.kill(pid, SIGHUP)
        os.kill(os.getpid(), SIGHUP)  # this worker's own request has been answered

    def _others(self, status: bytes | None = None) -> set[int]:
        """The pids of the other workers (in ``status``: ``b"busy"``, ``b"idle"``)."""
        return {
            int(w["pid"])
            for w in self._module.workers()
            if int(w.get("pid") or 0) not in (0, os.getpid())
            and (status is None or w.get("status") == status)
        }

    def _when_idle(self, done: Callable[[list[int]], bool]) -> None:
        """Call ``done(busy pids)`` every 10 ms until it says so, ``IDLE_WAIT`` at most."""
        deadline = time.monotonic() + IDLE_WAIT
        while not done(sorted(self._others(b"busy"))):
            if time.monotonic() > deadline:
                log.info("uWSGI workers still busy after %gs: reloading anyway", IDLE_WAIT)
                return
            time.sleep(0.01)
