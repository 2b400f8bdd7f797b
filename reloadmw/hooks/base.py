"""What a restart hook is: a callable that ends this process so that the server starts anew."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ctypes

    from _typeshed.wsgi import WSGIEnvironment

log = logging.getLogger("reloadmw")


@dataclass(frozen=True)
class AppInfo:
    """Where and when the middleware was built."""

    #: The pid that built it: another pid serving means the app was built before a fork.
    pid: int = field(default_factory=os.getpid)
    #: Wall-clock time (``time.time_ns()``) when it was built.
    built_ns: int = field(default_factory=time.time_ns)


class Hook:
    """A way to end this process so that the server starts a fresh one."""

    #: The name shown in log lines, and accepted by ``hook=`` for named hooks.
    name = "hook"

    def prepare(self, environ: WSGIEnvironment, *, app: AppInfo) -> bool:
        """Called once, at the first request, with its environ.

        ``app`` tells where and when the middleware was built. Returns False,
        after logging one WARNING, when this hook cannot restart this process;
        the middleware then stops checking.
        """
        return True

    def __call__(self, changed: Sequence[str]) -> None:
        raise NotImplementedError

    #: Who answers once this hook is asked to restart (``reloadmw.successor``): ``"old"``,
    #: the old code, until the new process comes; ``"new"``, the new process, to which
    #: this one sends its requests (``forward``: ``reloadmw serve``); ``"fresh"``, a
    #: fresh interpreter with the new code, while the server replaces its workers.
    successor = "old"

    #: True for a hook whose restart would cut the request held meanwhile (uWSGI's
    #: reload also restarts its HTTP router, which holds the client's connection): the
    #: middleware calls ``ask`` when it finds the change, and the hook once the fresh
    #: interpreter's answer has been sent.
    restart_after_answer = False

    def ask(self, changed: Sequence[str]) -> bool:
        """Record, for the sibling workers, that this process will ask for a restart;
        whether it will (no sibling asked for these changes yet)."""
        return False

    def asked(self) -> ctypes.c_int64 | None:
        """Where a sibling records that it asked the server to replace every worker: a
        time in nanoseconds (``value``), shared in memory; None where there is none."""
        return None

    def __repr__(self) -> str:
        return f"<reloadmw hook {self.name}>"


class NoRestart(Hook):
    """A server where no restart is safe: warn once, then never check."""

    name = "none"

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def prepare(self, environ: WSGIEnvironment, *, app: AppInfo) -> bool:
        log.warning("%s", self.reason)
        return False

    def __call__(self, changed: Sequence[str]) -> None:  # pragma: no cover - never checked
        pass


class CallableHook(Hook):
    """Any callable, called with the list of changed paths."""

    def __init__(self, function: Callable[[list[str]], object]) -> None:
        self.function = function
        module = getattr(function, "__module__", None)
        qualname = getattr(function, "__qualname__", None) or type(function).__qualname__
        self.name = f"{module}:{qualname}" if module else qualname

    def __call__(self, changed: Sequence[str]) -> None:
        self.function(list(changed))
