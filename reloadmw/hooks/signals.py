"""Hooks that signal this process or end it: ``signal:NAME`` and ``exit``."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence

from .base import Hook

#: gunicorn and uWSGI run on UNIX only: Windows has no SIGHUP, and no hook sends it there.
SIGHUP: int
if sys.platform == "win32":
    SIGHUP = signal.SIGTERM
else:
    SIGHUP = signal.SIGHUP


class SendSignal(Hook):
    """Send a signal to this process (``hook="signal:SIGTERM"``)."""

    def __init__(self, signum: int) -> None:
        self.signum = signal.Signals(signum)
        self.name = f"signal:{self.signum.name}"

    def __call__(self, changed: Sequence[str]) -> None:
        os.kill(os.getpid(), self.signum)


class Exit(Hook):
    """``os._exit(3)``: the exit code that paste.reloader and werkzeug restart on."""

    name = "exit"

    def __call__(self, changed: Sequence[str]) -> None:
        os._exit(3)
