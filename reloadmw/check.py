"""The check: when one is due, what it found, and the state that follows. No WSGI here.

The middleware routes each request by ``next_due`` alone (its fast path
compares one float, which the Check hands it through ``on_due`` whenever it
changes) and asks the Check everything else. ``next_due`` follows from the
state, and is set in ``_due_at`` only, by ``_enter`` and ``claim``:

- NEW: no check has run to its end yet; ``next_due`` is in the past, so that the first
  request takes the slow path (the middleware prepares its hook and successor there).
- WATCHING: checks are due every ``interval``; ``next_due`` is the next one.
- BROKEN: a changed source does not compile, or the application fails to import (the
  gate); every request takes the slow path (for the diagnostic) and checks again when
  due, until it is mended.
- RESTARTING: a change was found and the restart is asked for; the old code answers
  meanwhile (``reloadmw.successor``): no more checks.
- HANDED_OVER: a change was found (or a sibling worker found one, and the server replaces
  this one) and a successor answers for this process: every request takes the slow path,
  to be sent there.
- FINISHED: no restart can work here (or the hook failed): no more checks.
- OFF: disabled; a pass-through.

``before_requests`` says where checks run: on requests, or (mod_wsgi's replay) before
the server hands a request over, in ``reload_required``.
"""

from __future__ import annotations

import collections
import enum
import logging
import math
import threading
import time
from collections.abc import Callable
from time import monotonic

from . import syntax
from .syntax import Problem
from .watch import Watcher, file_state

log = logging.getLogger("reloadmw")

#: How long a request that must see a running check's outcome waits for it (a check
#: may settle, then import the application in a fresh interpreter).
WAIT = 90.0
#: Files that keep changing longer than this restart anyway, with a WARNING.
SETTLE_MAX = 3.0
#: How often a settling check looks again.
SETTLE_STEP = 0.05
#: ``interval="auto"``: the checks take at most this share of the time, from the median
#: cost of the last ``AUTO_SAMPLES`` checks, and are never further apart than ``AUTO_MOST``.
AUTO_SHARE = 0.01
AUTO_SAMPLES = 15
AUTO_MOST = 1.0


def _states(paths: list[str]) -> list[tuple[str, object]]:
    """Each path with its file state now: what settling and the gate compare."""
    return [(path, file_state(path)) for path in paths]


class State(enum.Enum):
    NEW = "new"
    WATCHING = "watching"
    BROKEN = "broken"
    RESTARTING = "restarting"
    HANDED_OVER = "handed over"
    FINISHED = "finished"
    OFF = "off"


#: The states in which a check may run.
CHECKING = (State.NEW, State.WATCHING, State.BROKEN)


class Check:
    """Checks of ``watcher`` at most once per ``interval``; thread-safe.

    :param watcher: what to check; None for a check that is OFF.
    :param interval: seconds between two checks, at least; ``"auto"``: from what a check
        costs here, so that checks take at most ``AUTO_SHARE`` of the time.
    :param syntax_check: hold back changes whose ``.py`` sources do not compile (BROKEN).
    :param on_due: called with every new ``next_due`` (the fast path keeps a copy).
    :param settle: once changes are found, wait until the watched files have been quiet
        this long (seconds; re-checking meanwhile, at most ``SETTLE_MAX``), so that a burst
        of writes (a formatter, a checkout) costs one restart into a whole tree.
    :param gate: asked before a restart (the import pre-flight), with the changed files and
        their states; what it returns, if anything, holds the changes back (BROKEN) until
        the files change again. It says why itself, in the log.
    """

    def __init__(
        self,
        watcher: Watcher | None,
        interval: float | str,
        syntax_check: bool,
        on_due: Callable[[float], None] | None = None,
        *,
        settle: float = 0.0,
        gate: Callable[[list[tuple[str, object]]], str | None] | None = None,
    ) -> None:
        self.watcher = watcher
        self.auto = interval == "auto"
        self.interval = 0.0 if isinstance(interval, str) else interval
        self._costs: collections.deque[float] = collections.deque(maxlen=AUTO_SAMPLES)
        self.syntax_check = syntax_check
        self.quiet = settle  # seconds of quiet that a burst of writes must end with
        self.gate = gate
        #: Whether requests that come while a check runs wait for its outcome (the
        #: successor may answer them), or take the fast path meanwhile.
        self.hold = False
        #: Called with the changes a check found, before the state moves on (a sibling
        #: worker's ask is recorded before any request of this process is sent on).
        self.found: Callable[[list[str]], bool] | None = None
        #: The changed sources that do not compile, while BROKEN.
        self.problems: list[Problem] = []
        #: What the gate said (the import that fails), while BROKEN.
        self.failure: str | None = None
        self._gated: object = None  # the changed files' states that the gate last saw
        self._settled_states: object = None  # and those that the last settling ended with
        self._lock = threading.Lock()
        self._last = monotonic()
        self._on_due = on_due
        #: Whether checks run before the server hands requests over (mod_wsgi's
        #: ``reload_required``), not on the requests themselves.
        self.before_requests = False
        self.state = State.NEW if watcher is not None else State.OFF
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

    def running(self) -> bool:
        """Whether a check is running now."""
        return self._lock.locked()

    def due(self) -> bool:
        """Whether a check may run now."""
        return self.state in CHECKING and monotonic() >= self._last + self.interval

    def claim(self) -> None:
        """A check will follow this request's response: let others take the fast path meanwhile."""
        if self.state in (State.NEW, State.WATCHING):
            self._due_at(monotonic() + self.interval)

    def settle(self) -> None:
        """No check is due yet (the first request got here to prepare): back to the fast path."""
        if self.state in (State.NEW, State.WATCHING):
            self._enter(State.WATCHING)

    def hand_over(self) -> None:
        """A successor answers from now on: every request is routed there, none checked."""
        self._enter(State.HANDED_OVER)

    def finish(self) -> None:
        """No more checks: no restart can follow."""
        self._enter(State.FINISHED if self.state is not State.OFF else State.OFF)

    def run(self, *, wait: bool = False, then: State = State.RESTARTING) -> list[str]:
        """Run a due check: the changed paths, or nothing. Never raises.

        One check runs at a time: a caller that finds one running gets nothing
        at once, or with ``wait`` waits for it (up to ``WAIT``) and sees the state
        it left. Changes found move to ``then`` (RESTARTING, or HANDED_OVER where a
        successor answers), unless a changed source does not compile: then
        BROKEN, and they are held back (reported again, with the rest, once it
        compiles).
        """
        return self._locked(lambda: self._run(then) if self.due() else [], wait)

    def _run(self, then: State) -> list[str]:
        assert self.watcher is not None
        start = self._last = monotonic()
        if not self.hold:  # else requests meanwhile take the slow path, and wait
            self._due_at(start + self.interval)
        changed = self.watcher.check()
        cost = monotonic() - start
        log.debug("checked %d files in %.2f ms", len(self.watcher), cost * 1e3)
        if self.auto:
            self._pace(cost)
        if self.watcher.take_templates(changed):  # read again by the framework, no restart
            changed = []
        if changed and self.quiet:
            changed = self._settled(changed)
        problems = syntax.problems(changed) if changed and self.syntax_check else []
        if problems:
            if problems != self.problems:
                log.error("not restarting: %s", "; ".join(map(str, problems)))
            self.problems, self.failure = problems, None
            self._enter(State.BROKEN)
            return []
        self.problems = []
        if changed and self.gate is not None and self._gate(changed) is not None:
            self._enter(State.BROKEN)
            return []
        if changed and self.found is not None:
            self.found(changed)
        self._enter(then if changed else State.WATCHING)
        return changed

    def follow(self) -> list[str]:
        """While HANDED_OVER: tell ``found`` of the changes made since, once the gate passes
        them, so that an edit after the one handed over for gets a successor of its own;
        those changes where ``found`` says this process asks for them. Never raises."""
        if self.state is not State.HANDED_OVER or self.found is None:
            return []
        return self._locked(self._follow, wait=True)

    def _follow(self) -> list[str]:
        assert self.watcher is not None and self.found is not None
        changed = self.watcher.check()  # (against this process's own baselines)
        if not changed or self.watcher.take_templates(changed):
            return []
        if self.gate is not None and self._gate(changed) is not None:
            return []  # (the answer says why)
        return changed if self.found(changed) else []

    def _locked(self, work: Callable[[], list[str]], wait: bool) -> list[str]:
        """``work()`` under the check's lock, or nothing where another holds it (with
        ``wait``: once it is done, up to ``WAIT``), or on any error (logged)."""
        if self.watcher is None:
            return []
        if not (self._lock.acquire(timeout=WAIT) if wait else self._lock.acquire(blocking=False)):
            return []
        try:
            return work()
        except Exception:
            log.exception("the check for changes failed")
            return []
        finally:
            self._lock.release()

    def _pace(self, cost: float) -> None:
        """``interval="auto"``: the interval that keeps checks under ``AUTO_SHARE``."""
        self._costs.append(cost)  # (the lower median: of two, a first full pass is not it)
        median = sorted(self._costs)[(len(self._costs) - 1) // 2]
        self.interval = min(AUTO_MOST, median / AUTO_SHARE)

    def _settled(self, changed: list[str]) -> list[str]:
        """Re-check until the changed files have been quiet for ``self.quiet`` seconds."""
        assert self.watcher is not None
        # Real time, whatever clock the checks are scheduled by: this one sleeps.
        clock = time.monotonic
        started = quiet_since = clock()
        seen = _states(changed)
        if seen == self._settled_states:  # as they were at the last check (BROKEN): quiet
            return changed
        while clock() - quiet_since < self.quiet:
            if clock() - started > SETTLE_MAX:
                log.warning(
                    "files kept changing for %gs; restarting anyway (%d changed)",
                    SETTLE_MAX, len(changed),
                )  # fmt: skip
                break
            time.sleep(min(SETTLE_STEP, self.quiet))
            more = [path for path in self.watcher.check() if path not in changed]
            changed = changed + more
            now = _states(changed)
            if now != seen:
                seen, quiet_since = now, clock()
        self._settled_states = seen
        return changed

    def _gate(self, changed: list[str]) -> str | None:
        """Ask the gate, once per new state of the changed files; its failure, or None."""
        assert self.gate is not None
        states = _states(sorted(changed))
        if states != self._gated:
            self._gated = states
            self.failure = self.gate(states)
        return self.failure

    def adopt_modules(self) -> None:
        """Baseline the modules imported during a request as soon as it returns.

        Skipped while a check runs (it, or the next, adopts them) and once no
        check will follow.
        """
        watcher = self.watcher
        if watcher is None or self.state not in CHECKING:
            return
        if not self._lock.acquire(blocking=False):
            return
        try:
            watcher.adopt_modules()
        except Exception:
            log.exception("could not scan sys.modules")
        finally:
            self._lock.release()
