"""The check: when one is due, what it found, and the state that follows. No WSGI here.

The middleware routes each request by ``next_due`` alone (its fast path
compares one float, which the Check hands it through ``on_due`` whenever it
changes) and asks the Check everything else. ``next_due`` follows from the
state, and is set in ``_due_at`` only, by ``_enter`` and ``claim``:

- WATCHING: checks are due every ``interval``; ``next_due`` is the next one.
- BROKEN: a changed source does not compile; every request takes the slow path
  (for the diagnostic) and checks again when due, until it compiles.
- FINISHED: a change was found, or no restart can work here: no more checks.
- HANDED_OVER: a change was found and a successor answers for this process
  (``reloadmw serve``): every request takes the slow path, to be sent there.
- OFF: disabled; a pass-through.

A new Check is WATCHING with ``next_due`` in the past, so that the first
request takes the slow path once (the middleware prepares its hook there).
"""

from __future__ import annotations

import enum
import logging
import math
import threading
from collections.abc import Callable
from time import monotonic

from . import syntax
from .syntax import Problem
from .watch import Watcher

log = logging.getLogger("reloadmw")

#: How long a request that must see a running check's outcome waits for it.
WAIT = 10.0


class State(enum.Enum):
    WATCHING = "watching"
    BROKEN = "broken"
    FINISHED = "finished"
    HANDED_OVER = "handed over"
    OFF = "off"


class Check:
    """Checks of ``watcher`` at most once per ``interval``; thread-safe.

    :param watcher: what to check; None for a check that is OFF.
    :param interval: seconds between two checks, at least.
    :param syntax_check: hold back changes whose ``.py`` sources do not compile (BROKEN).
    :param on_due: called with every new ``next_due`` (a copy next to the fast path
        costs one attribute lookup less per request than reading it here).
    """

    def __init__(
        self,
        watcher: Watcher | None,
        interval: float,
        syntax_check: bool,
        on_due: Callable[[float], None] | None = None,
    ) -> None:
        self.watcher = watcher
        self.interval = interval
        self.syntax_check = syntax_check
        #: The changed sources that do not compile, while BROKEN.
        self.problems: list[Problem] = []
        self._lock = threading.Lock()
        self._last = monotonic()
        self._on_due = on_due
        self.state = State.WATCHING if watcher is not None else State.OFF
        self._due_at(-math.inf if watcher is not None else math.inf)

    def _due_at(self, when: float) -> None:
        self.next_due = when
        if self._on_due is not None:
            self._on_due(when)

    def _enter(self, state: State) -> None:
        self.state = state
        if state is State.WATCHING:
            self._due_at(self._last + self.interval)
        elif state in (State.BROKEN, State.HANDED_OVER):
            self._due_at(-math.inf)
        else:
            self._due_at(math.inf)

    def due(self) -> bool:
        """Whether a check may run now."""
        return self.state in (State.WATCHING, State.BROKEN) and (
            monotonic() >= self._last + self.interval
        )

    def claim(self) -> None:
        """A check will follow this request's response: let others take the fast path meanwhile."""
        if self.state is State.WATCHING:
            self._due_at(monotonic() + self.interval)

    def settle(self) -> None:
        """No check is due yet (the first request got here to prepare): back to the fast path."""
        if self.state is State.WATCHING:
            self._enter(State.WATCHING)

    def hand_over(self) -> None:
        """A successor answers from now on: every request is routed there, none checked."""
        self._enter(State.HANDED_OVER)

    def finish(self) -> None:
        """No more checks: no restart can follow."""
        self._enter(State.FINISHED if self.state is not State.OFF else State.OFF)

    def run(self, *, wait: bool = False, then: State = State.FINISHED) -> list[str]:
        """Run a due check: the changed paths, or nothing. Never raises.

        One check runs at a time: a caller that finds one running gets nothing
        at once, or with ``wait`` waits for it (up to ``WAIT``) and sees the state
        it left. Changes found move to ``then`` (FINISHED, or HANDED_OVER where a
        successor answers), unless a changed source does not compile: then
        BROKEN, and they are held back (reported again, with the rest, once it
        compiles).
        """
        if self.watcher is None:
            return []
        if not (self._lock.acquire(timeout=WAIT) if wait else self._lock.acquire(blocking=False)):
            return []
        try:
            start = monotonic()
            if self.state not in (State.WATCHING, State.BROKEN) or not self.due():
                return []
            self._last = start
            self._due_at(start + self.interval)
            changed = self.watcher.check()
            log.debug(
                "checked %d files in %.2f ms", len(self.watcher), (monotonic() - start) * 1e3
            )
            problems = syntax.problems(changed) if changed and self.syntax_check else []
            if problems:
                if problems != self.problems:
                    log.error("not restarting: %s", "; ".join(map(str, problems)))
                self.problems = problems
                self._enter(State.BROKEN)
                return []
            self.problems = []
            self._enter(then if changed else State.WATCHING)
            return changed
        except Exception:
            log.exception("the check for changes failed")
            return []
        finally:
            self._lock.release()

    def adopt_modules(self) -> None:
        """Baseline the modules imported during a request as soon as it returns.

        Skipped while a check runs (it, or the next, adopts them) and once no
        check will follow.
        """
        watcher = self.watcher
        if watcher is None or self.state in (State.FINISHED, State.HANDED_OVER):
            return
        if not self._lock.acquire(blocking=False):
            return
        try:
            watcher.adopt_modules()
        except Exception:
            log.exception("could not scan sys.modules")
        finally:
            self._lock.release()
