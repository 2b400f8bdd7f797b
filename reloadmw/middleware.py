"""ReloadMiddleware: request -> due? -> app -> (close) -> check -> hook.

No thread and no process: the only work happens on requests. A request with no
check due gets the application's own response iterable back, untouched. A
request with a check due gets it wrapped, and the wrapper's ``close()`` checks
once the server has sent the response, so a check never delays a response.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from time import monotonic
from typing import TYPE_CHECKING, Any

from . import config, hooks
from .watch import Watcher, forget_bytecode

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("reloadmw")

_modules = sys.modules

#: How many changed paths a log line names before it counts the rest.
_PATHS_SHOWN = 5


class _CheckAfterClose:
    """The application's iterable, with a check after its ``close()``.

    PEP 3333 has the server call ``close()`` once the response is sent, which
    is the earliest moment a restart cannot cut it short.
    """

    __slots__ = ("_after", "_closed", "_iterable")

    def __init__(self, iterable: Iterable[bytes], after: Callable[[], None]) -> None:
        self._iterable = iterable
        self._after = after
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._iterable)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            close = getattr(self._iterable, "close", None)
            if close is not None:
                close()
        finally:
            self._after()


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
        self.hook: hooks.Hook | None = None
        self._app = hooks.AppInfo()
        self._lock = threading.Lock()
        self._prepare_lock = threading.Lock()
        self._prepared = False
        self._finished = False
        self._last = monotonic()
        if not self.enabled:
            self._watcher: Watcher | None = None
            self._deadline = math.inf
            return
        self._watcher = Watcher(extra, excluded, include_site)
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

    @property
    def watched_files(self) -> list[str]:
        """The paths watched so far (modules imported later join at the next check)."""
        return self._watcher.paths if self._watcher is not None else []

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if monotonic() < self._deadline:
            count = len(_modules)
            try:
                return self.app(environ, start_response)
            finally:
                if len(_modules) != count:
                    self._adopt_modules()
        return self._call_slowly(environ, start_response)

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

    def _call_slowly(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        if not self._prepared:
            self._prepare(environ)
        now = monotonic()
        if self._finished or now < self._last + self.interval or self._watcher is None:
            # Only the first request's hook preparation brought us here.
            self._deadline = math.inf if self._finished else self._last + self.interval
            count = len(_modules)
            try:
                return self.app(environ, start_response)
            finally:
                if len(_modules) != count:
                    self._adopt_modules()
        # Claim this check, so that concurrent requests take the fast path.
        self._deadline = now + self.interval
        try:
            result = self.app(environ, start_response)
        except BaseException:
            self._check(environ)
            raise
        return _CheckAfterClose(result, lambda: self._check(environ))

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
            self._prepared = True

    def _check(self, environ: WSGIEnvironment) -> None:
        """Check for changes, and restart on one. Never raises."""
        if not self._lock.acquire(blocking=False):
            return  # another request is checking right now
        try:
            start = monotonic()
            if self._finished or self._watcher is None or start < self._last + self.interval:
                return
            self._last = start
            self._deadline = start + self.interval
            changed = self._watcher.check()
            log.debug(
                "checked %d files in %.2f ms",
                len(self._watcher),
                (monotonic() - start) * 1000,
            )
            if changed:
                self._restart(changed, environ)
        except Exception:
            log.exception("the check for changes failed")
        finally:
            self._lock.release()

    def _restart(self, changed: list[str], environ: WSGIEnvironment) -> None:
        self._finished = True
        self._deadline = math.inf
        hook = self.hook
        assert hook is not None
        shown = ", ".join(changed[:_PATHS_SHOWN])
        if len(changed) > _PATHS_SHOWN:
            shown += f" and {len(changed) - _PATHS_SHOWN} more"
        message = f"change detected in {shown}; restarting pid {os.getpid()} via {hook.name}"
        log.info("%s", message)
        _write_error(environ, f"reloadmw: {message}\n")
        for path, error in forget_bytecode(changed):
            log.warning(
                "cannot remove the cached bytecode of %s (%s): an edit within the "
                "same second that kept the size may leave the new process on the old code",
                path,
                error,
            )
        try:
            hook(changed)
        except Exception:
            log.exception("restart hook %s failed; this process keeps running", hook.name)


def _write_error(environ: WSGIEnvironment, text: str) -> None:
    """Write to the server's error stream (under mod_wsgi, Apache's error log)."""
    stream: Any = environ.get("wsgi.errors")
    if stream is None:
        return
    try:
        stream.write(text)
        stream.flush()
    except Exception:
        log.debug("could not write to wsgi.errors", exc_info=True)
