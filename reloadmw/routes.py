"""Where a request goes once the fast path is left: the slow half of ReloadMiddleware.

``reloadmw.middleware`` builds the middleware and keeps its fast path; the
routes here take every request that comes while a check is due, while a check
runs that the request must wait for, once a change was found (to the successor, or
a diagnostic), and every request of the live-reload script. The path of a request
reads top to bottom: route -> (check first) -> app -> (close) -> check -> restart.
Who answers once a change is found is the successor's business (``reloadmw.successor``).
"""

from __future__ import annotations

import ctypes
import logging
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from .check import Check, State
from .restart import AfterClose, announce, drop_bytecode

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from . import hooks, live
    from .options import Options
    from .successor import Successor

log = logging.getLogger("reloadmw")

_modules = sys.modules


class Routes:
    """The slow path of :class:`reloadmw.ReloadMiddleware` (its base class)."""

    app: WSGIApplication
    options: Options
    hook: hooks.Hook | None
    _check: Check
    _successor: Successor
    _live: live.Live | None
    _generation: int
    _stamp: ctypes.c_int64 | None

    def _call_app(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        """The application's own response, and a look for modules it imported meanwhile."""
        count = len(_modules)
        try:
            return self.app(environ, start_response)
        finally:
            if len(_modules) != count:
                self._check.adopt_modules()

    def _route(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        check, successor = self._check, self._successor
        if successor.replaced():  # a sibling found a change: this process hands over too
            check.hand_over()
        if check.state is State.HANDED_OVER:
            return successor.answer(environ, start_response, [])
        if check.state is State.BROKEN:
            return self._check_first(environ, start_response, run=not check.before_requests)
        if successor.holds and check.running():  # its outcome may concern us
            return self._check_first(environ, start_response, run=True)
        if check.before_requests or not check.due():
            check.settle()  # the first request came here to prepare the hook
            return self._call_app(environ, start_response)
        if successor.checks_first(environ):
            return self._check_first(environ, start_response, run=True)
        check.claim()
        try:
            result = self.app(environ, start_response)
        except BaseException:
            self._check_then_restart(environ)
            raise
        return AfterClose(result, lambda: self._check_then_restart(environ))

    def _check_first(
        self, environ: WSGIEnvironment, start_response: StartResponse, *, run: bool
    ) -> Iterable[bytes]:
        """Check before the application: a diagnostic while BROKEN; on a change, or once
        handed over, the successor's answer."""
        check, successor = self._check, self._successor
        # A request must see the outcome of a check already running, if it could be sent on.
        changed = check.run(wait=successor.holds, then=successor.then) if run else []
        if check.state is State.BROKEN:
            from . import pages  # (WebOb: imported once a page is needed)

            if check.problems:
                return pages.syntax_error(check.problems, environ, start_response)
            return pages.import_error(check.failure or "", environ, start_response)
        if changed or check.state is State.HANDED_OVER:
            return successor.answer(environ, start_response, changed)
        return self._call_app(environ, start_response)

    def _live_answer(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        """The live-reload script's requests: like any other, each drives the check first."""
        check, successor = self._check, self._successor
        assert self._live is not None
        if successor.replaced():
            check.hand_over()
        busy = check.running()  # (never waited for: a poll holds no worker)
        changed = [] if check.before_requests or busy else check.run(then=successor.then)
        if check.state is State.HANDED_OVER and successor.answers_polls:
            return successor.answer(environ, start_response, changed)  # the new process's
        if changed and successor.restart_first:  # asks now, as the request would (gunicorn)
            self._restart(changed, environ)
            changed = []
        answer = self._live.answer(environ, start_response, self._live_now(changed, busy))
        return AfterClose(answer, lambda: self._restart(changed, environ)) if changed else answer

    def _live_now(self, changed: list[str], busy: bool = False) -> live.Now:
        """What the live-reload script is told of the code that answers now."""
        from . import live

        check, successor = self._check, self._successor
        if check.state is State.BROKEN:
            shown = sorted(map(str, check.problems)) or [check.failure or ""]
            return live.Now(self._generation, broken=live.broken_key("\n".join(shown)))
        moved_on = check.state is State.HANDED_OVER or successor.superseded()
        if successor.then is State.HANDED_OVER and moved_on:  # new code answers from now on
            stamp = self._stamp  # the new workers' generation (their stamp)
            return live.Now(stamp.value if stamp is not None else self._generation + 1)
        restarting = bool(changed) or check.state is State.RESTARTING or busy
        watcher = check.watcher
        templates = watcher.templates_version if watcher is not None else 0
        return live.Now(self._generation, restarting=restarting, templates=templates)

    def _check_then_restart(self, environ: WSGIEnvironment) -> None:
        """Check for changes after a response, and restart on one. Never raises."""
        changed = self._check.run(then=self._successor.then)
        if changed:
            self._restart(changed, environ)

    def _restart(self, changed: list[str], environ: WSGIEnvironment) -> None:
        hook = self.hook
        assert hook is not None
        try:
            if changed:  # (none: a sibling found them, and announced them)
                announce(changed, hook.name, environ.get("wsgi.errors"))
                drop_bytecode(changed)
            hook(changed)
        except Exception:
            if self._check.state is State.RESTARTING:  # no restart comes: say so to pages
                self._check.finish()
            log.exception("restart hook %s failed; this process keeps running", hook.name)
