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

from . import hooks
from .check import Check, State
from .collect import built_by, collectors, find_entry
from .options import Options, handoff_timeout
from .restart import announce, drop_bytecode, watching
from .routes import Routes
from .successor import Successor
from .watch import Watcher

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from .live import Live

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
        spec = self.options.hook  # a bad one fails now, not at the first request:
        self._hook_spec = None if spec == "auto" else hooks.resolve(spec)
        #: The hook in use, chosen and prepared at the first request.
        self.hook: hooks.Hook | None = None
        self._app = hooks.AppInfo()
        self._prepare_lock = threading.Lock()
        for collector in collectors.get():
            collector.append(self)
        o, watcher = self.options, None
        handoff_timeout()  # a bad RELOADMW_HANDOFF_TIMEOUT fails now, naming it
        self._entry = find_entry(sys._getframe(1)) if o.import_check else None
        self._ordinal = built_by.get(str(self._entry), 0)
        built_by[str(self._entry)] = self._ordinal + 1
        #: Who answers once a change is found: chosen with the hook.
        self._successor = Successor(hooks.NoRestart("not prepared yet"), self._restart)
        if o.enabled:
            watcher = Watcher(
                o.extra_files, o.exclude, o.include_site_packages, o.backend,
                templates_of=app if o.templates else None,
            )  # fmt: skip
        #: The live reload, once it is on (decided when preparing; see reloadmw.live).
        self._live: Live | None = None
        self._generation = 0  # of the code, for the live-reload script (see reloadmw.live)
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
        # Live reload, or sibling workers that may ask for new ones: every request routed.
        every = self._live is not None or self._successor.stamp is not None
        self._next_due = -math.inf if every else when

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
        """The gate before a restart: the entry module's import, as the successor has it."""
        return self._successor.gate(self._entry, changed) if self._entry is not None else None

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
            if ready:
                from .successor.choose import choose

                successor = choose(
                    hook, self._restart, options=self.options, check=self._check,
                    environ=environ, entry=self._entry, ordinal=self._ordinal,
                    old=self._call_app, built_ns=self._app.built_ns,
                    reload_required=self.reload_required,
                )  # fmt: skip
            else:
                successor = Successor(hook, self._restart)
                self._check.finish()  # no restart can follow, so never check
            self._successor = successor
            self._check.hold = successor.holds
            o = self.options  # live reload: on by default under reloadmw serve only
            by_default = o.live_reload is None and hook.successor == "new"
            if o.enabled and (o.live_reload or by_default):
                from . import live

                self._live = live.Live(o.live_files, o.exclude)
                stamp = successor.stamp  # the workers of one server share a stamp, if any
                self._stamp = stamp if stamp is not None else hook.asked() if ready else None
                self._generation = live.generation(self._stamp, self._app.built_ns)
            self._due_at(self._check.next_due)
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
        check = self._check
        check.before_requests = True
        if check.state is State.RESTARTING:
            return True  # this process is on its way out: replay this request too
        if monotonic() < self._next_due:
            return False
        changed = check.run()
        if not changed:
            return False
        try:
            announce(changed, "mod_wsgi reload_required (the request is replayed)", sys.stderr)
            drop_bytecode(changed)
        except Exception:
            log.exception("could not announce the restart")
        return True
