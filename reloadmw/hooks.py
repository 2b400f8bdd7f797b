"""Restart hooks: how this process asks its server for a fresh one.

Each hook is a callable taking the list of changed paths. Named hooks fit one
server each (facts and measurements in the project's SERVERS.md); ``"auto"``
picks one from the first request's environ. A hook that cannot work in this
process says so once, with a WARNING, when the first request arrives.
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import siblings, winapi

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

log = logging.getLogger("reloadmw")

#: gunicorn and uWSGI run on UNIX only: Windows has no SIGHUP, and no hook sends it there.
_SIGHUP: int
if sys.platform == "win32":
    _SIGHUP = signal.SIGTERM
else:
    _SIGHUP = signal.SIGHUP

__all__ = [
    "HOOK_NAMES",
    "ApacheSignalParent",
    "AppInfo",
    "CallableHook",
    "Exit",
    "Gunicorn",
    "Hook",
    "ModWsgi",
    "NoRestart",
    "SendSignal",
    "Uwsgi",
    "detect",
    "resolve",
]


@dataclass(frozen=True)
class AppInfo:
    """Where and when the middleware was built."""

    #: The pid that built it: another pid serving means the app was built before a fork.
    pid: int = field(default_factory=os.getpid)
    #: Wall-clock time (``time.time_ns()``) when it was built.
    built_ns: int = field(default_factory=time.time_ns)


class Hook:
    """A way to end this process so that the server starts a fresh one."""

    #: The name shown in log lines, and accepted by ``hook=`` for named hooks.
    name = "hook"

    def prepare(self, environ: WSGIEnvironment, *, app: AppInfo) -> bool:
        """Called once, at the first request, with its environ.

        ``app`` tells where and when the middleware was built. Returns False,
        after logging one WARNING, when this hook cannot restart this process;
        the middleware then stops checking.
        """
        return True

    def __call__(self, changed: Sequence[str]) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<reloadmw hook {self.name}>"


class SendSignal(Hook):
    """Send a signal to this process (``hook="signal:SIGTERM"``)."""

    def __init__(self, signum: int) -> None:
        self.signum = signal.Signals(signum)
        self.name = f"signal:{self.signum.name}"

    def __call__(self, changed: Sequence[str]) -> None:
        os.kill(os.getpid(), self.signum)


class ModWsgi(SendSignal):
    """mod_wsgi daemon mode: SIGINT to this daemon process.

    mod_wsgi stops accepting requests, lets those in flight finish (up to the
    daemon's ``shutdown-timeout``), and Apache starts a new daemon process.
    Apache keeps the listening socket, so requests sent meanwhile wait.
    """

    def __init__(self) -> None:
        super().__init__(signal.SIGINT)
        self.name = "mod_wsgi"

    def prepare(self, environ: WSGIEnvironment, *, app: AppInfo) -> bool:
        if environ.get("mod_wsgi.process_group") == "":
            log.warning(
                "mod_wsgi embedded mode cannot restart a process safely: reloadmw will not "
                "restart. Run the application in daemon mode (WSGIDaemonProcess and "
                "WSGIProcessGroup) to get restarts on code changes."
            )
            return False
        return True


class Gunicorn(Hook):
    """gunicorn: SIGHUP to the arbiter, which replaces every worker gracefully.

    Each old worker would otherwise find the change on its own next request,
    so one edit could cost a stale page per worker. Of the workers that find
    one change, only the first asks (see ``reloadmw.siblings``). With
    ``--preload`` the arbiter holds the old code, so no new worker can run the
    new code: the hook warns once and ends only this worker (SIGTERM), which
    finishes its requests first.
    """

    name = "gunicorn"

    def __init__(self) -> None:
        self._app = AppInfo()
        self._preloaded = False

    def prepare(self, environ: WSGIEnvironment, *, app: AppInfo) -> bool:
        self._app = app
        self._preloaded = os.getpid() != app.pid
        if self._preloaded:
            log.warning(
                "the application was built in pid %d before this gunicorn worker (pid %d) "
                "forked (--preload): a new worker would run the old code. Drop --preload "
                "while developing.",
                app.pid,
                os.getpid(),
            )
        return True

    def __call__(self, changed: Sequence[str]) -> None:
        if self._preloaded:
            os.kill(os.getpid(), signal.SIGTERM)
            return
        arbiter = os.getppid()
        if siblings.first_to_ask(arbiter, self._app.built_ns):
            os.kill(arbiter, _SIGHUP)
        else:
            log.info("gunicorn arbiter %d is already replacing this worker", arbiter)


class Uwsgi(Hook):
    """uWSGI: a graceful reload, of this worker alone or of the whole server.

    A lone worker that built the application itself (``lazy-apps``) gets
    SIGHUP: it finishes its requests and the master respawns it with fresh
    code. With several workers, or an application imported by the master
    before the fork (a respawned worker would keep the old code), the hook
    calls ``uwsgi.reload()``: the master reloads every worker gracefully, and
    only the first worker to find a change asks (see ``reloadmw.siblings``).
    """

    name = "uwsgi"

    def __init__(self) -> None:
        self._module: Any = None
        self._app = AppInfo()
        self._alone = True

    def prepare(self, environ: WSGIEnvironment, *, app: AppInfo) -> bool:
        self._module = sys.modules.get("uwsgi")
        if self._module is None:
            log.warning("the uwsgi module is not loaded: this is not uWSGI; no restart")
            return False
        self._app = app
        built_here = app.pid == os.getpid()
        self._alone = built_here and int(getattr(self._module, "numproc", 1) or 1) <= 1
        return True

    def __call__(self, changed: Sequence[str]) -> None:
        if self._alone:
            os.kill(os.getpid(), _SIGHUP)
            return
        masterpid = getattr(self._module, "masterpid", None)
        master = int(masterpid()) if callable(masterpid) else 0
        if siblings.first_to_ask(master or os.getppid(), self._app.built_ns):
            self._module.reload()
        else:
            log.info("uWSGI is already reloading this worker")


class Exit(Hook):
    """``os._exit(3)``: the exit code that paste.reloader and werkzeug restart on."""

    name = "exit"

    def __call__(self, changed: Sequence[str]) -> None:
        os._exit(3)


class NoRestart(Hook):
    """A server where no restart is safe: warn once, then never check."""

    name = "none"

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def prepare(self, environ: WSGIEnvironment, *, app: AppInfo) -> bool:
        log.warning("%s", self.reason)
        return False

    def __call__(self, changed: Sequence[str]) -> None:  # pragma: no cover - never checked
        pass


class ApacheSignalParent(Hook):
    """Windows, mod_wsgi embedded mode: ``ap_signal_parent(signal_type)`` through ctypes.

    :param library: the DLL that exports ``ap_signal_parent``, as a name or a
        path; default ``"libhttpd"``, the Apache process's own. Loaded with
        WinDLL on Windows and CDLL elsewhere.
    :param signal_type: 0 shutdown, 1 restart (default), 2 graceful restart;
        the winnt MPM handles 1 and 2 alike: the parent starts a new child and
        the old one finishes its requests (up to Apache's ``Timeout``).
    """

    name = "apache-windows"

    def __init__(self, library: str | os.PathLike[str] = "libhttpd", signal_type: int = 1) -> None:
        if not isinstance(library, (str, os.PathLike)) or not os.fspath(library):
            raise TypeError(
                f"ApacheSignalParent library: expected a name or path, got {library!r}"
            )
        valid = (
            winapi.SIGNAL_PARENT_SHUTDOWN,
            winapi.SIGNAL_PARENT_RESTART,
            winapi.SIGNAL_PARENT_RESTART_GRACEFUL,
        )
        if isinstance(signal_type, bool) or signal_type not in valid:
            raise ValueError(
                f"ApacheSignalParent signal_type: expected 0 (shutdown), 1 (restart) or "
                f"2 (graceful restart), got {signal_type!r}"
            )
        self.library = library
        self.signal_type = signal_type
        self._function: Callable[[int], None] | None = None

    def load(self) -> Callable[[int], None]:
        """Load ``ap_signal_parent``; raises OSError when it is not there."""
        if self._function is None:
            self._function = winapi.load_signal_parent(self.library)
        return self._function

    def prepare(self, environ: WSGIEnvironment, *, app: AppInfo) -> bool:
        try:
            self.load()
        except OSError as error:
            log.warning(
                "cannot restart through Apache's ap_signal_parent (library %r): %s; "
                "reloadmw will not restart",
                os.fspath(self.library),
                error,
            )
            return False
        return True

    def __call__(self, changed: Sequence[str]) -> None:
        self.load()(self.signal_type)


class CallableHook(Hook):
    """Any callable, called with the list of changed paths."""

    def __init__(self, function: Callable[[list[str]], object]) -> None:
        self.function = function
        module = getattr(function, "__module__", None)
        qualname = getattr(function, "__qualname__", None) or type(function).__qualname__
        self.name = f"{module}:{qualname}" if module else qualname

    def __call__(self, changed: Sequence[str]) -> None:
        self.function(list(changed))


#: Named hooks, as accepted by ``hook=``, besides ``"auto"`` and ``"signal:NAME"``.
HOOK_NAMES: Mapping[str, Callable[[], Hook]] = {
    "mod_wsgi": ModWsgi,
    "apache-windows": ApacheSignalParent,
    "gunicorn": Gunicorn,
    "uwsgi": Uwsgi,
    "exit": Exit,
}


def _choices() -> str:
    return ", ".join(
        [
            repr("auto"),
            *map(repr, HOOK_NAMES),
            "'signal:NAME'",
            "'package.module:function'",
            "a callable",
        ]
    )


def resolve(spec: object) -> Hook | None:
    """Turn a ``hook=`` value into a Hook, or None for ``"auto"``.

    Raises ValueError or TypeError, naming the value and the valid choices,
    for an unknown name, an unknown signal, or a dotted name that does not
    import.
    """
    if isinstance(spec, Hook):
        return spec
    if isinstance(spec, type) and issubclass(spec, Hook):
        return spec()  # hook=hooks.Gunicorn, the class, means its default instance
    if not isinstance(spec, str):
        if callable(spec):
            return CallableHook(spec)
        raise TypeError(f"reloadmw option 'hook': expected one of {_choices()}; got {spec!r}")
    if spec == "auto":
        return None
    if spec in HOOK_NAMES:
        return HOOK_NAMES[spec]()
    if spec.startswith("signal:"):
        name = spec[len("signal:") :].strip().upper()
        name = name if name.startswith("SIG") else "SIG" + name
        signum = getattr(signal.Signals, name, None) if name.isidentifier() else None
        if not isinstance(signum, signal.Signals):
            raise ValueError(
                f"reloadmw option 'hook': {spec!r} names no signal this platform has "
                f"(for example 'signal:SIGTERM')"
            )
        return SendSignal(signum)
    if ":" in spec:
        return CallableHook(_import_function(spec))
    raise ValueError(
        f"reloadmw option 'hook': unknown hook {spec!r}; expected one of {_choices()}"
    )


def _import_function(spec: str) -> Callable[[list[str]], object]:
    module_name, _, attribute = spec.partition(":")
    try:
        target: Any = importlib.import_module(module_name.strip())
        for part in attribute.strip().split("."):
            target = getattr(target, part)
    except Exception as error:
        raise ValueError(
            f"reloadmw option 'hook': cannot import {spec!r} "
            f"({type(error).__name__}: {error}); expected 'package.module:function'"
        ) from error
    if not callable(target):
        raise TypeError(f"reloadmw option 'hook': {spec!r} is {target!r}, which is not callable")
    return target  # type: ignore[no-any-return]


def detect(environ: WSGIEnvironment) -> Hook:
    """Choose the hook that fits the server that sent ``environ`` (``hook="auto"``)."""
    given = environ.get("reloadmw.hook")
    if isinstance(given, Hook):  # a server that reloadmw runs itself (reloadmw serve)
        return given
    if "mod_wsgi.process_group" in environ or "mod_wsgi.version" in environ:
        if environ.get("mod_wsgi.process_group"):
            return ModWsgi()
        if sys.platform == "win32":
            return ApacheSignalParent()
        return ModWsgi()  # warns, at prepare, that embedded mode cannot restart
    software = str(environ.get("SERVER_SOFTWARE", ""))
    if software.startswith("gunicorn/") or "gunicorn.socket" in environ:
        return Gunicorn()
    if "uwsgi.version" in environ:
        return Uwsgi()
    if software.startswith("waitress") or "waitress.client_disconnected" in environ:
        # waitress sends buffered output after close() returns: every hook measured
        # there truncated the response in flight.
        return NoRestart(
            "waitress sends a response after the application's close() returns, so no "
            "restart from inside it is safe: reloadmw will not restart this process. "
            "`reloadmw serve --server waitress` runs waitress with restarts that keep "
            "every byte."
        )
    log.warning(
        "no server that reloadmw knows sent this request (SERVER_SOFTWARE=%r): on a code "
        "change it will exit with status 3 (hook 'exit'), and a supervisor must start "
        "the process again",
        software,
    )
    return Exit()
