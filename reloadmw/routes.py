"""Where a request goes once the fast path is left: the slow half of ReloadMiddleware.

``reloadmw.middleware`` builds the middleware and keeps its fast path; the
routes here take every request that comes while a check is due, while a check
runs that the request must wait for, once a change was found (to the new code,
a diagnostic or a retry page), and every request of the live-reload script.
The path of a request reads top to bottom: route -> (check first) -> app ->
(close) -> check -> restart.
"""

from __future__ import annotations

import ctypes
import logging
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from . import fresh, hooks, live, pages
from .check import Check, State
from .options import Options
from .restart import AfterClose, announce, drop_bytecode

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("reloadmw")

_modules = sys.modules


class Routes:
    """The slow path of :class:`reloadmw.ReloadMiddleware` (its base class)."""

    app: WSGIApplication
    options: Options
    hook: hooks.Hook | None
    _check: Check
    _answer: WSGIApplication | None
    _held: fresh.Held | None
    _asked: ctypes.c_int64
    _built: int
    _replaying: bool
    _live: live.Live | None
    _generation: int
    _restarting: bool
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
        check = self._check
        if self._replaced():
            return self._send_on(environ, start_response, then=[])
        if check.state is State.HANDED_OVER:
            return self._send_on(environ, start_response)
        if check.state is State.BROKEN:
            return self._check_first(environ, start_response, run=not self._replaying)
        if self._holds_requests() and check.running():  # its outcome may concern us
            return self._check_first(environ, start_response, run=True)
        if self._replaying or not check.due():
            check.settle()  # the first request came here to prepare the hook
            return self._call_app(environ, start_response)
        if self.options.on_change == "retry" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return self._check_first(environ, start_response, run=True)
        if self._holds_requests():
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
        """Check before the application: a diagnostic while BROKEN; on a change, a retry
        page (``on_change="retry"``) or the new process's answer where the hook gets it."""
        check = self._check
        answers = self._answer is not None
        # A request must see the outcome of a check already running, if it could be sent on.
        changed = check.run(wait=answers, then=self._after_change()) if run else []
        if check.state is State.BROKEN and check.problems:
            return pages.syntax_error(check.problems, environ, start_response)
        if check.state is State.BROKEN:
            return pages.import_error(check.failure or "", environ, start_response)
        if changed and (self.options.on_change == "retry" or not answers):
            page = pages.retry(environ, start_response)
            return AfterClose(page, lambda: self._restart(changed, environ))
        if check.state is State.HANDED_OVER:
            hook = self.hook
            assert hook is not None
            if changed and hook.restart_after_answer:  # restart once the answers are sent
                return self._hook_answer(environ, start_response, then=changed)
            if changed:  # this request's check found it: restart, then send it on too
                self._restart(changed, environ)
            return self._hook_answer(environ, start_response)
        return self._call_app(environ, start_response)

    def _replaced(self) -> bool:
        """Whether a sibling found a change just now: the server replaces this process,
        which hands over from here on (True once, at the first request that sees it)."""
        if self._answer is None or self._asked.value <= self._built:
            return False
        if self._check.state is State.HANDED_OVER:
            return False
        self._check.hand_over()
        return True

    def _after_change(self) -> State:
        """Where a change leads: no more checks, or every request sent to the successor."""
        return State.HANDED_OVER if self._answer is not None else State.FINISHED

    def _holds_requests(self) -> bool:
        """Whether the request that finds a change is held and answered by the new code."""
        return self._answer is not None and self.options.on_change == "restart"

    def _send_on(
        self,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        then: list[str] | None = None,
    ) -> Iterable[bytes]:
        """A handed-over process sends the request to its successor; an edit made since
        is asked for first, so that the successor that answers has it."""
        later = self._check.follow()
        hook = self.hook
        assert hook is not None
        if later and not hook.restart_after_answer:
            self._restart(later, environ)  # (gunicorn: the arbiter replaces the workers again)
        elif later:
            then = later
        return self._hook_answer(environ, start_response, then=then)

    def _hook_answer(
        self,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        then: list[str] | None = None,
    ) -> Iterable[bytes]:
        held = self._held
        try:
            if held is not None:
                return held(environ, start_response, then)
            assert self._answer is not None
            return self._answer(environ, start_response)
        except fresh.ImportFailed as failure:  # an edit since the gate passed
            return pages.import_error(str(failure), environ, start_response)

    def _live_answer(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        """The live-reload script's requests: like any other, each drives the check first."""
        check, hook = self._check, self.hook
        assert self._live is not None and hook is not None
        self._replaced()
        busy = check.running()  # (never waited for: a poll holds no worker)
        changed = [] if self._replaying or busy else check.run(then=self._after_change())
        if check.state is State.HANDED_OVER and hook.answers_held_requests:
            if changed:
                self._restart(changed, environ)
            return self._hook_answer(environ, start_response)  # the new process answers it
        if (
            changed and not hook.restart_after_answer and self._answer is not None
        ):  # asks now, as the request would (gunicorn)
            self._restart(changed, environ)
            changed = []
        answer = self._live.answer(environ, start_response, self._live_now(changed, busy))
        return AfterClose(answer, lambda: self._restart(changed, environ)) if changed else answer

    def _live_now(self, changed: list[str], busy: bool = False) -> live.Now:
        """What the live-reload script is told of the code that answers now."""
        check = self._check
        if check.state is State.BROKEN:
            shown = sorted(map(str, check.problems)) or [check.failure or ""]
            return live.Now(self._generation, broken=live.broken_key("\n".join(shown)))
        moved_on = check.state is State.HANDED_OVER or self._asked.value > self._built
        if self._answer is not None and moved_on:  # new code answers from now on
            stamp = self._stamp  # the new workers' generation (their stamp)
            return live.Now(stamp.value if stamp is not None else self._generation + 1)
        restarting = bool(changed) or self._restarting or busy
        watcher = check.watcher
        templates = watcher.templates_version if watcher is not None else 0
        return live.Now(self._generation, restarting=restarting, templates=templates)

    def _check_then_restart(self, environ: WSGIEnvironment) -> None:
        """Check for changes after a response, and restart on one. Never raises."""
        changed = self._check.run(then=self._after_change())
        if changed:
            self._restart(changed, environ)

    def _restart(self, changed: list[str], environ: WSGIEnvironment) -> None:
        hook = self.hook
        assert hook is not None
        self._restarting = True
        try:
            if changed:  # (none: a sibling found them, and announced them)
                announce(changed, hook.name, environ.get("wsgi.errors"))
                drop_bytecode(changed)
            hook(changed)
        except Exception:
            self._restarting = False
            log.exception("restart hook %s failed; this process keeps running", hook.name)
