"""What a successor is: who answers the requests that come once a change is found."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from ..check import State

if TYPE_CHECKING:
    import ctypes

    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from ..collect import Entry
    from ..hooks import Hook

log = logging.getLogger("reloadmw")

#: The restart: the changes found (none where a sibling found them), and the request's
#: environ (its error stream announces the restart).
Restart = Callable[[list[str], "WSGIEnvironment"], None]


class Successor:
    """The old code answers the request that finds a change, which the hook then restarts
    after the response; the next request comes to the new process. The default, and the
    base of the others, each of which says what differs.
    """

    name = "the old code"
    #: Where the state goes once a change is found: RESTARTING (no more checks), or
    #: HANDED_OVER (every request of this process goes to ``answer``).
    then = State.RESTARTING
    #: Whether the check runs before the application (the request that finds a change is
    #: answered by ``answer``), and requests that come while it runs wait for it.
    holds = False
    #: Whether the server is asked for the restart at once when a change is found (before
    #: the answer), rather than once the answer has been sent.
    restart_first = False
    #: Whether a live-reload poll that comes once handed over goes to ``answer`` too.
    answers_polls = False
    #: The siblings' shared stamp, where the workers of one server share one (``Fresh``):
    #: then every request reads it, for a sibling may have asked for new workers.
    stamp: ctypes.c_int64 | None = None

    def __init__(self, hook: Hook, restart: Restart) -> None:
        self.hook = hook
        self.restart = restart

    def checks_first(self, environ: WSGIEnvironment) -> bool:
        """Whether this request's check runs before the application."""
        return self.holds

    def replaced(self) -> bool:
        """Whether this process runs old code now that a sibling found a change (the server
        replaces it): then it hands over, as if it had found the change itself."""
        return False

    def gate(self, entry: Entry, states: list[tuple[str, object]]) -> str | None:
        """Before the restart, whether the new code imports: None, or the traceback (see
        ``reloadmw.fresh.preflight``). Here, in an interpreter of its own, once per edit among
        the sibling workers."""
        from ..fresh.preflight import shared_failure

        return shared_failure(entry, repr(states))

    def superseded(self) -> bool:
        """Whether newer code answers for this process already (a sibling asked)."""
        return False

    def answer(
        self, environ: WSGIEnvironment, start_response: StartResponse, changed: list[str]
    ) -> Iterable[bytes]:
        """A request once a change was found: ``changed`` where its own check found it (the
        successor restarts, at once or once it is answered), else empty. Here, where the old
        code cannot answer it (a check before the application found the change: a retry,
        or the mend of a broken edit), a page that reloads itself, then the restart."""
        from .. import pages
        from ..restart import AfterClose

        page = pages.retry(environ, start_response)
        return AfterClose(page, lambda: self.restart(changed, environ)) if changed else page
