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
import math
import sys
import threading
from collections.abc import Iterable
from time import monotonic
from typing import TYPE_CHECKING, Any

from . import fresh, hooks, live, preflight
from .check import Check
from .collect import built_by, collectors
from .hooks import mod_wsgi
from .options import Options
from .restart import announce, drop_bytecode, watching
from .routes import Routes
from .watch import Watcher

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("reloadmw")

_modules = sys.modules


class ReloadMiddleware(Routes):
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
            watcher = Watcher(
                o.extra_files, o.exclude, o.include_site_packages, o.backend,
                templates_of=app if o.templates else None,
            )  # fmt: skip
        #: The live reload, while it may be on (``None`` in options: decided when preparing).
        live_on = o.enabled and o.live_reload is not False
        self._live = live.Live(o.live_files, o.exclude) if live_on else None
        self._generation = 0  # of the code, for the live-reload script (see reloadmw.live)
        self._restarting = False  # a restart was asked for (no fresh answer meanwhile)
        self._stamp: ctypes.c_int64 | None = None  # the siblings' shared stamp, for live reload
        #: Before this monotonic time no request needs the slow path: the Check's
        #: ``next_due``, which it hands over whenever it changes.
        self._next_due = 0.0
        self._check = Check(
            watcher, o.interval, o.syntax_check, on_due=self._due_at, settle=o.settle,
            gate=self._import_failure if self._entry is not None else None,
        )  # fmt: skip
        if watcher is not None:
            watching(self._app.pid, watcher.paths, o.interval, watcher.describe())

    def __repr__(self) -> str:
        state = "enabled" if self.options.enabled else "disabled"
        interval = self.options.interval
        shown = interval if isinstance(interval, str) else f"{interval:g}"
        return f"<ReloadMiddleware {state} interval={shown} app={self.app!r}>"

    def _due_at(self, when: float) -> None:
        self._next_due = when if self._live is None else -math.inf  # live: every request routed

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

    def _call_slowly(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        if self.hook is None:
            self._prepare(environ)
        live_ = self._live
        if live_ is None:
            return self._route(environ, start_response)
        if live_.asks(environ):
            return self._live_answer(environ, start_response)
        return live_.pages(environ, start_response, self._route, lambda: self._live_now([]))

    def _import_failure(self, changed: list[tuple[str, object]]) -> str | None:
        """The gate before a restart: the entry module's import in a fresh interpreter."""
        if self._entry is None or (self.hook is not None and self.hook.answers_held_requests):
            return None  # serve guards its new process
        return preflight.shared_failure(self._entry, repr(changed))

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
                edit = lambda: self._asked.value  # noqa: E731 - the siblings' stamp, as it is then
                self._answer = fresh.Answer(self._entry, self._ordinal, self._call_app, edit)
                self._check.hold = True
                self._check.found = hook.ask  # the edit is named before a request is sent on
                if (asked := hook.asked()) is not None:  # (a c_int64 of 0 is false)
                    self._asked, self.__class__ = asked, _AmongSiblings
                if hook.restart_after_answer:
                    self._held = fresh.Held(self._answer, self._restart)
            elif self.options.on_change == "restart":
                log.info(fresh.STALE_FIRST_PAGE, hook.name)
            if self.options.live_reload is None and not hook.live_by_default:
                self._live = None
                self._due_at(self._check.next_due)
            if self._live is not None:  # the workers of one server share a stamp, if any
                among = self.__class__ is _AmongSiblings  # (its stamp is _asked already)
                self._stamp = self._asked if among else hook.asked() if ready else None
                self._generation = live.generation(self._stamp, self._built)
            self.hook = hook

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
