"""gunicorn and uWSGI: a fresh interpreter answers while the server replaces its workers."""

from __future__ import annotations

import ctypes
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..check import Check, State
from ..fresh.answer import Answer, ImportFailed
from ..hooks import siblings
from ..restart import AfterClose
from .base import Restart, Successor

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from ..collect import Entry
    from ..hooks import Hook


class Fresh(Successor):
    """The request that finds a change is held, and a fresh interpreter (``reloadmw.fresh``)
    imports the new code and answers it, while the server replaces its workers; so is every
    later request of this process, and of each sibling worker built before the change was
    found (they share a stamp: ``reloadmw.hooks.siblings``). gunicorn is asked at once;
    uWSGI once the answer is sent (its reload would cut the held request), and a worker
    that answered from the new code is then respawned.
    """

    name = "a fresh interpreter"
    then = State.HANDED_OVER
    holds = True

    def __init__(
        self,
        hook: Hook,
        restart: Restart,
        *,
        check: Check,
        entry: Entry,
        ordinal: int,
        old: WSGIApplication,
        built_ns: int,
    ) -> None:
        super().__init__(hook, restart)
        self.restart_first = not hook.restart_after_answer
        self._check = check
        self._built = built_ns
        #: The siblings' shared stamp: when one last asked the server to replace them all.
        shared = hook.asked()  # (a c_int64 of 0 is false: no "or" here)
        self.stamp = self._shared = shared if shared is not None else ctypes.c_int64(0)
        self._answer = Answer(entry, ordinal, old, lambda: self._shared.value)
        self._respawn = False  # replaced by a sibling's ask: restart once answered (uWSGI)
        check.found = hook.ask  # the edit is named before a request can be sent on

    def gate(self, entry: Entry, states: list[tuple[str, object]]) -> str | None:
        # The interpreter that answers for the edit imports it first: one import per change.
        edit = siblings.changed_at([path for path, _ in states])  # what the ask will name
        return self._answer.outcome(edit, repr(states))

    def replaced(self) -> bool:
        if self._shared.value <= self._built or self._check.state is State.HANDED_OVER:
            return False
        self._respawn = True
        return True

    def superseded(self) -> bool:
        return self._shared.value > self._built

    def answer(
        self, environ: WSGIEnvironment, start_response: StartResponse, changed: list[str]
    ) -> Iterable[bytes]:
        # An edit since the one handed over for is asked for too, so that it is answered.
        then: list[str] | None = changed or self._check.follow() or None
        if then is None and self._respawn:
            then, self._respawn = [], False
        if then is not None and self.restart_first:
            self.restart(then, environ)
            then = None
        try:
            result = self._answer(environ, start_response)
        except ImportFailed as failure:  # an edit since the gate passed
            from .. import pages

            result = pages.import_error(str(failure), environ, start_response)
        except BaseException:
            if then is not None:
                self.restart(then, environ)
            raise
        if then is None:
            return result
        done = then
        return AfterClose(result, lambda: self.restart(done, environ))
