"""ReloadMiddleware: request -> due? -> app -> (close) -> check -> hook.

No thread and no process: the only work happens on requests. With no check due,
the application's own response iterable comes back untouched; with one due, its
``close()`` checks once the response is sent; or, where the new code can answer
(``reloadmw serve``; gunicorn and uWSGI via ``reloadmw.fresh``), under mod_wsgi's
replay and with ``on_change="retry"``, the check runs before the application.
"""

from __future__ import annotations

import ctypes
import logging
import sys
import threading
from collections.abc import Iterable
from time import monotonic
from typing import TYPE_CHECKING, Any

from . import fresh, hooks, pages, preflight
from .check import Check, State
from .collect import built_by, collectors
from .hooks import mod_wsgi
from .options import Options
from .places import places
from .restart import AfterClose, announce, drop_bytecode
from .watch import Watcher

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("reloadmw")

_modules = sys.modules


class ReloadMiddleware:
    """Restart the server's process, through a hook, when a watched file changes.

    :param app: the WSGI application to wrap.
    :param options: a ready :class:`reloadmw.Options`, or none.
    :param values: the options as keywords (``interval=0.5, hook="gunicorn"``), when
        ``options`` is not given (the configuration page lists them all, with their
        defaults). Each is checked here: a bad one raises ValueError or TypeError
        naming it and its value, and an unknown one lists the valid ones.
    """

    def __init__(
        self, app: WSGIApplication, *, options: Options | None = None, **values: Any
    ) -> None:
        if not callable(app):
            raise TypeError(f"ReloadMiddleware: app must be a WSGI application, got {app!r}")
        if options is not None and values:
            raise TypeError("ReloadMiddleware: give options= or keyword options, not both")
        self.app = app
        self.options = options if options is not None else Options.build(values)
        self._hook_spec = hooks.resolve(self.options.hook)
        #: The hook in use, chosen and prepared at the first request.
        self.hook: hooks.Hook | None = None
        self._app = hooks.AppInfo()
        self._prepare_lock = threading.Lock()
        self._replaying = False  # mod_wsgi calls reload_required: check there only
        self._replayed = False  # reload_required found a change: replay every request
        for collector in collectors.get():
            collector.append(self)
        o, watcher = self.options, None
        self._entry = preflight.find_entry(sys._getframe(1)) if o.import_check else None
        self._ordinal = built_by.get(str(self._entry), 0)
        built_by[str(self._entry)] = self._ordinal + 1
        #: Who answers the requests held once the server replaces this process (and then
        #: restarts it, for uWSGI); when a sibling last asked for that (ns, shared).
        self._answer: WSGIApplication | None = None
        self._held: fresh.Held | None = None
        self._asked = ctypes.c_int64(0)  # past ``_built``: this process runs old code
        self._built = self._app.built_ns
        if o.enabled:
            watcher = Watcher(o.extra_files, o.exclude, o.include_site_packages, o.backend)
        #: Before this monotonic time no request needs the slow path: the Check's
        #: ``next_due``, which it hands over whenever it changes.
        self._next_due = 0.0
        self._check = Check(
            watcher, o.interval, o.syntax_check, on_due=self._due_at, settle=o.settle,
            gate=self._import_failure if self._entry is not None else None,
        )  # fmt: skip
        if watcher is not None:
            log.info(
                "pid %d restarts when its code changes (%s, checked on requests "
                "%s); this is meant for development, not production",
                self._app.pid,
                places(watcher.paths),
                f"{o.interval:g}s apart at least" if o.interval else "every time",
            )

    def __repr__(self) -> str:
        state = "enabled" if self.options.enabled else "disabled"
        return f"<ReloadMiddleware {state} interval={self.options.interval:g} app={self.app!r}>"

    def _due_at(self, when: float) -> None:
        self._next_due = when

    def use_hook(self, hook: hooks.Hook) -> None:
        """Restart through ``hook`` if this middleware was to choose one itself (``"auto"``)."""
        if self._hook_spec is None:
            self._hook_spec = hook

    @property
    def watched_files(self) -> list[str]:
        """The paths watched so far (modules imported later join at the next check)."""
        watcher = self._check.watcher
        return watcher.paths if watcher is not None else []

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if monotonic() < self._next_due:
            # The fast path, inlined: a method call here would cost more than the rest.
            count = len(_modules)
            try:
                return self.app(environ, start_response)
            finally:
                if len(_modules) != count:
                    self._check.adopt_modules()
        return self._call_slowly(environ, start_response)

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

    def _call_slowly(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        if self.hook is None:
            self._prepare(environ)
        check = self._check
        stale = self._asked.value > self._built  # a sibling found a change: we are replaced
        if stale and self._answer is not None and check.state is not State.HANDED_OVER:
            check.hand_over()
            return self._hook_answer(environ, start_response, then=[])
        if check.state is State.HANDED_OVER:
            return self._hook_answer(environ, start_response)
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
                hook.ask(changed)
                return self._hook_answer(environ, start_response, then=changed)
            if changed:  # this request's check found it: restart, then send it on too
                self._restart(changed, environ)
            return self._hook_answer(environ, start_response)
        return self._call_app(environ, start_response)

    def _import_failure(self, changed: list[tuple[str, object]]) -> str | None:
        """The gate before a restart: the entry module's import in a fresh interpreter."""
        if self._entry is None or (self.hook is not None and self.hook.answers_held_requests):
            return None  # serve guards its new process
        return preflight.shared_failure(self._entry, repr(changed))

    def _after_change(self) -> State:
        """Where a change leads: no more checks, or every request sent to the successor."""
        return State.HANDED_OVER if self._answer is not None else State.FINISHED

    def _holds_requests(self) -> bool:
        """Whether the request that finds a change is held and answered by the new code."""
        return self._answer is not None and self.options.on_change == "restart"

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

    def _prepare(self, environ: WSGIEnvironment) -> None:
        with self._prepare_lock:
            if self.hook is not None:
                return
            try:
                hook = self._hook_spec or hooks.detect(environ)
                ready = hook.prepare(environ, app=self._app)
            except Exception:
                log.exception("could not prepare the restart hook; no restarts")
                hook, ready = hooks.NoRestart("no restart hook"), False
            if not ready:
                self._check.finish()  # no restart can follow, so never check
            elif self.options.replay and isinstance(hook, hooks.ModWsgi):
                mod_wsgi.install(self.reload_required, environ)
            elif hook.answers_held_requests:
                self._answer = hook.answer
                self._check.hold = True
            elif hook.fresh_answers and self._entry and self.options.on_change == "restart":
                self._answer = fresh.Answer(self._entry, self._ordinal, self._call_app)
                self._check.hold = True
                if (asked := hook.asked()) is not None:  # (a c_int64 of 0 is false)
                    self._asked, self.__class__ = asked, _AmongSiblings
                if hook.restart_after_answer:
                    self._held = fresh.Held(self._answer, self._restart)
            elif self.options.on_change == "restart":
                log.info(fresh.STALE_FIRST_PAGE, hook.name)
            self.hook = hook

    def _check_then_restart(self, environ: WSGIEnvironment) -> None:
        """Check for changes after a response, and restart on one. Never raises."""
        changed = self._check.run(then=self._after_change())
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
            log.exception("restart hook %s failed; this process keeps running", hook.name)

    def reload_required(self, resource: str) -> bool:
        """mod_wsgi's request replay: check before the request, not after the response.

        mod_wsgi daemon mode calls a ``reload_required(resource)`` function of the
        WSGI script before each request; on True, it restarts the daemon process and
        hands the same request to the new one, so the first page after an edit shows
        the new code. Expose it with ``reload_required = application.reload_required``
        (reloadmw does it for you unless the script has its own, or ``replay=False``).
        ``resource`` is not used. Once called, checks run here only.
        """
        self._replaying = True
        if self._replayed:
            return True  # this process is on its way out: replay this request too
        if monotonic() < self._next_due:
            return False
        changed = self._check.run()
        if not changed:
            return False
        self._replayed = True
        try:
            announce(changed, "mod_wsgi reload_required (the request is replayed)", sys.stderr)
            drop_bytecode(changed)
        except Exception:
            log.exception("could not announce the restart")
        return True


class _AmongSiblings(ReloadMiddleware):
    """One whose sibling workers may ask the server to replace it (gunicorn, uWSGI): each
    request also reads their shared stamp. A middleware becomes one when it prepares."""

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if self._asked.value > self._built:
            return self._call_slowly(environ, start_response)
        return ReloadMiddleware.__call__(self, environ, start_response)
