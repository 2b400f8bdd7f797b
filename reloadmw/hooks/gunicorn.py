"""gunicorn: one SIGHUP to the arbiter per edit, shared among sibling workers."""

from __future__ import annotations

import ctypes
import logging
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from . import siblings
from .base import AppInfo, Hook
from .signals import SIGHUP

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

log = logging.getLogger("reloadmw")


class Gunicorn(Hook):
    """gunicorn: SIGHUP to the arbiter, which replaces every worker gracefully.

    Each old worker would otherwise find the change on its own next request,
    so one edit could cost a stale page per worker. Of the workers that find
    one change, only the first asks (see ``reloadmw.hooks.siblings``). With
    ``--preload`` the arbiter holds the old code, so no new worker can run the
    new code: ending a worker would only fork another with the same old code,
    whose first check finds the same change again, one worker per request. So
    the hook warns once, and no check runs in that worker.
    """

    name = "gunicorn"
    successor = "fresh"

    def __init__(self) -> None:
        self._app = AppInfo()
        self._ask = siblings.Ask()

    def prepare(self, environ: WSGIEnvironment, *, app: AppInfo) -> bool:
        self._app = app
        if os.getpid() != app.pid:
            log.warning(
                "the application was built in pid %d before this gunicorn worker (pid %d) "
                "forked (--preload): a new worker would run the old code, so reloadmw will "
                "not restart. Drop --preload while developing.",
                app.pid,
                os.getpid(),
            )
            return False
        return True

    def asked(self) -> ctypes.c_int64 | None:
        return siblings.asked(os.getppid())

    def ask(self, changed: Sequence[str]) -> bool:
        return self._ask.record(os.getppid(), changed)

    def __call__(self, changed: Sequence[str]) -> None:
        arbiter = os.getppid()
        if self._ask.first(arbiter, changed):
            os.kill(arbiter, SIGHUP)
        else:
            log.info("gunicorn arbiter %d is already replacing this worker", arbiter)
