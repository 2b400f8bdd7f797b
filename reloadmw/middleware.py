"""ReloadMiddleware: request -> due? -> app -> (close) -> check -> hook.

No thread and no process: the only work happens on requests. A request with no
check due gets the application's own response iterable back, untouched. A
request with a check due gets it wrapped, and the wrapper's ``close()`` checks
once the server has sent the response, so a check never delays a response.
Two modes check before the request instead: mod_wsgi's request replay
(``reload_required``) and ``on_change="retry"``.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import math
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from time import monotonic
from typing import TYPE_CHECKING

from . import config, hooks, pages, syntax
from .hooks import mod_wsgi
from .restart import AfterClose, announce
from .watch import Watcher

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("reloadmw")

_modules = sys.modules

#: The lists that ``collecting`` hands out, innermost last.
_collectors: contextvars.ContextVar[tuple[list[ReloadMiddleware], ...]] = contextvars.ContextVar(
    "reloadmw_collectors", default=()
)


@contextlib.contextmanager
def collecting() -> Iterator[list[ReloadMiddleware]]:
    """The middlewares built in this context: what loading an application built itself.

    A loader uses it to tell an application that wraps itself (an ini file's
    ``[filter:reload]``) from one it must wrap, and ``reloadmw serve`` to give
    those its hand-over hook.
    """
    built: list[ReloadMiddleware] = []
    token = _collectors.set((*_collectors.get(), built))
    try:
        yield built
    finally:
        _collectors.reset(token)


class ReloadMiddleware:
    """Restart the server's process, through a hook, when a watched file changes.

    :param app: the WSGI application to wrap.
    :param interval: seconds between two checks, at least (default 1.0);
        ``0`` checks on every request.
    :param hook: how to restart: ``"auto"`` (default: chosen from the first
        request's environ), ``"mod_wsgi"``, ``"apache-windows"``,
        ``"gunicorn"``, ``"uwsgi"``, ``"exit"``, ``"signal:NAME"``, a
        ``reloadmw.hooks.Hook``, a callable, or a ``"package.module:function"``
        string; callables get the list of changed paths.
    :param extra_files: more files to watch besides the modules' sources: paths
        or glob patterns (``**`` recursive), relative to the current directory
        (default none).
    :param exclude: glob patterns of files never to watch, matched against
        absolute paths; a relative pattern matches at any depth (default none).
    :param include_site_packages: also watch modules from site-packages and
        dist-packages (default False). The standard library is never watched.
    :param enabled: False makes a pass-through that never checks (default
        True). So does the environment variable ``RELOADMW_DISABLE`` set to
        anything non-empty other than ``0``.
    :param replay: under mod_wsgi daemon mode, check before each request
        through mod_wsgi's ``reload_required`` hook of the WSGI script, which
        restarts the process and replays the request on the new one, so no
        response comes from old code (default True). See ``reload_required``.
    :param syntax_check: when a changed ``.py`` file does not compile, do not
        restart; answer with a diagnostic page (details to loopback clients
        only) until it compiles (default True).
    :param on_change: ``"restart"`` (default) checks after responses;
        ``"retry"`` checks before GET and HEAD requests and, on a change,
        answers 503 with ``Retry-After: 1`` and a page that reloads itself,
        then restarts: no page from old code, at the cost of one round trip.
        Under mod_wsgi daemon mode the request replay (``replay``) is the
        better tool: the same request is answered by the new code.
    :param backend: ``"stat"`` (default) stats every watched file at each
        check; ``"inotify"`` (Linux) reads the kernel's events instead, so a
        check costs about the same for 50 files or 5,000, with a full stat
        pass every 10 seconds for file systems that deliver no events (bind
        mounts, network shares). It falls back to ``"stat"``, with one
        WARNING, where inotify is missing or its watch limit is reached.

    Every option is checked here: a bad one raises ValueError or TypeError
    naming it and its value.
    """

    def __init__(
        self,
        app: WSGIApplication,
        *,
        interval: float = 1.0,
        hook: str | hooks.Hook | Callable[[list[str]], object] = "auto",
        extra_files: Sequence[str] = (),
        exclude: Sequence[str] = (),
        include_site_packages: bool = False,
        enabled: bool = True,
        replay: bool = True,
        syntax_check: bool = True,
        on_change: str = "restart",
        backend: str = "stat",
    ) -> None:
        if not callable(app):
            raise TypeError(f"ReloadMiddleware: app must be a WSGI application, got {app!r}")
        self.app = app
        self.interval = config.asinterval("interval", interval)
        self._hook_spec = hooks.resolve(config.ashook("hook", hook))
        extra = config.absolute(config.aslist("extra_files", extra_files), os.getcwd())
        excluded = config.aslist("exclude", exclude)
        include_site = config.asbool("include_site_packages", include_site_packages)
        self.enabled = config.asbool("enabled", enabled) and not config.disabled_by_environment()
        self.replay = config.asbool("replay", replay)
        self.syntax_check = config.asbool("syntax_check", syntax_check)
        self.on_change = config.aschoice("on_change", on_change)
        self.backend = config.aschoice("backend", backend)
        self.hook: hooks.Hook | None = None
        self._app = hooks.AppInfo()
        self._lock = threading.Lock()
        self._prepare_lock = threading.Lock()
        self._prepared = False
        self._finished = False  # no more checks: a change was found, or no restart can work
        self._replaying = False  # mod_wsgi calls reload_required: check there only
        self._stale = False  # reload_required found a change
        self._broken: list[pages.Problem] | None = None  # changed sources that do not compile
        self._last = monotonic()
        for collector in _collectors.get():
            collector.append(self)
        if not self.enabled:
            self._watcher: Watcher | None = None
            self._deadline = math.inf
            return
        self._watcher = Watcher(extra, excluded, include_site, backend=self.backend)
        # The first request takes the slow path once, to choose and prepare the hook.
        self._deadline = -math.inf
        log.info(
            "pid %d restarts when its code changes (%d files watched, checked on requests %s); "
            "this is meant for development, not production",
            self._app.pid,
            len(self._watcher),
            f"{self.interval:g}s apart at least" if self.interval else "every time",
        )

    def __repr__(self) -> str:
        state = "enabled" if self.enabled else "disabled"
        return f"<ReloadMiddleware {state} interval={self.interval:g} app={self.app!r}>"

    def use_hook(self, hook: hooks.Hook) -> None:
        """Restart through ``hook`` if this middleware was to choose one itself (``"auto"``)."""
        if self._hook_spec is None:
            self._hook_spec = hook

    @property
    def watched_files(self) -> list[str]:
        """The paths watched so far (modules imported later join at the next check)."""
        return self._watcher.paths if self._watcher is not None else []

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if monotonic() < self._deadline:
            # The fast path, inlined: a method call here would cost more than the rest.
            count = len(_modules)
            try:
                return self.app(environ, start_response)
            finally:
                if len(_modules) != count:
                    self._adopt_modules()
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
                self._adopt_modules()

    def _adopt_modules(self) -> None:
        """Baseline modules imported during a request as soon as it returns.

        Skipped while a check runs: that check, or the next, adopts them.
        """
        if self._watcher is None or self._finished or not self._lock.acquire(blocking=False):
            return
        try:
            self._watcher.adopt_modules()
        except Exception:
            log.exception("could not scan sys.modules")
        finally:
            self._lock.release()

    def _due(self) -> bool:
        return not (self._finished or self._watcher is None) and (
            monotonic() >= self._last + self.interval
        )

    def _call_slowly(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        if not self._prepared:
            self._prepare(environ)
        if self._broken is not None:
            return self._while_broken(environ, start_response)
        if self._replaying or not self._due():
            # Not due: the first request's preparation, or the replay, brought us here.
            if not (self._replaying or self._finished):
                self._deadline = self._last + self.interval
            return self._call_app(environ, start_response)
        if self.on_change == "retry" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            changed = self._find_changes()
            if self._broken is not None:
                return self._while_broken(environ, start_response)
            if changed:
                return AfterClose(
                    pages.retry(environ, start_response), lambda: self._fire(changed, environ)
                )
            return self._call_app(environ, start_response)
        # Claim this check, so that concurrent requests take the fast path.
        self._deadline = monotonic() + self.interval
        try:
            result = self.app(environ, start_response)
        except BaseException:
            self._check(environ)
            raise
        return AfterClose(result, lambda: self._check(environ))

    def _while_broken(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        """A changed source does not compile: explain, and restart once it does."""
        changed = self._find_changes() if not self._replaying and self._due() else []
        problems = self._broken
        if problems is not None:
            return pages.syntax_error(problems, environ, start_response)
        if changed:
            return AfterClose(
                pages.retry(environ, start_response), lambda: self._fire(changed, environ)
            )
        return self._call_app(environ, start_response)  # fixed under the replay's watch

    def _prepare(self, environ: WSGIEnvironment) -> None:
        with self._prepare_lock:
            if self._prepared:
                return
            try:
                hook = self._hook_spec or hooks.detect(environ)
                ready = hook.prepare(environ, app=self._app)
            except Exception:
                log.exception("could not prepare the restart hook; no restarts")
                hook, ready = hooks.NoRestart("no restart hook"), False
            self.hook = hook
            if not ready:
                self._finished = True  # no restart can follow, so never check
                self._deadline = math.inf
            elif self.replay and isinstance(hook, hooks.ModWsgi):
                mod_wsgi.install(self.reload_required, environ)
            self._prepared = True

    def _find_changes(self) -> list[str]:
        """Run a due check; the changed paths, or nothing. Never raises.

        Runs at most one check at a time: a caller that finds one running gets
        nothing at once rather than waiting. Changes found end all checking,
        unless a changed source does not compile: then they wait, and every
        request takes the slow path to get the diagnostic, until it does.
        """
        if not self._lock.acquire(blocking=False):
            return []
        try:
            start = monotonic()
            if self._finished or self._watcher is None or start < self._last + self.interval:
                return []
            self._last = start
            self._deadline = start + self.interval
            changed = self._watcher.check()
            log.debug(
                "checked %d files in %.2f ms", len(self._watcher), (monotonic() - start) * 1000
            )
            problems = syntax.problems(changed) if changed and self.syntax_check else []
            if problems:
                if problems != self._broken:
                    log.error("not restarting: %s", "; ".join(map(str, problems)))
                self._broken = problems
                self._deadline = -math.inf
                return []
            self._broken = None
            if changed:
                self._finished = True
                self._deadline = math.inf
            return changed
        except Exception:
            log.exception("the check for changes failed")
            return []
        finally:
            self._lock.release()

    def _check(self, environ: WSGIEnvironment) -> None:
        """Check for changes after a response, and restart on one. Never raises."""
        changed = self._find_changes()
        if changed:
            self._fire(changed, environ)

    def _fire(self, changed: list[str], environ: WSGIEnvironment) -> None:
        hook = self.hook
        assert hook is not None
        try:
            announce(changed, hook.name, environ.get("wsgi.errors"))
            hook(changed)
        except Exception:
            log.exception("restart hook %s failed; this process keeps running", hook.name)

    def reload_required(self, resource: str) -> bool:
        """mod_wsgi's request replay: check before the request, not after the response.

        mod_wsgi daemon mode calls a ``reload_required(resource)`` function of
        the WSGI script before each request; when it returns True, mod_wsgi
        restarts the daemon process and hands the same request to the new one,
        so even the first page after an edit shows the new code. Expose this
        method there with ``reload_required = application.reload_required``;
        under daemon mode with the mod_wsgi hook, reloadmw does it for you
        unless the script defines its own, or ``replay=False``. ``resource``
        (the script's path) is not used. Once called, checks run here only.
        """
        self._replaying = True
        if self._stale:
            return True  # this process is on its way out: replay this request too
        if monotonic() < self._deadline:
            return False
        changed = self._find_changes()
        if not changed:
            return False
        self._stale = True
        try:
            announce(changed, "mod_wsgi reload_required (the request is replayed)", sys.stderr)
        except Exception:
            log.exception("could not announce the restart")
        return True
