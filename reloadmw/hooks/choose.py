"""Which hook: ``hook=`` values resolved at start-up, and ``"auto"``'s look at the server."""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from ..loading import names
from .apache_windows import ApacheSignalParent
from .base import CallableHook, Hook, NoRestart
from .gunicorn import Gunicorn
from .mod_wsgi import ModWsgi
from .signals import Exit, SendSignal
from .uwsgi import Uwsgi

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

log = logging.getLogger("reloadmw")


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
    try:
        target = names.find(spec)
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
    if software.startswith("WSGIServer/"):
        log.warning(
            "the standard library's wsgiref server cannot start a fresh process itself: on "
            "a code change reloadmw exits with status 3 (hook 'exit'). Run the application "
            "under `reloadmw serve` instead, or in a loop that starts it again while it exits "
            "with status 3."
        )
    else:
        log.warning(
            "no server that reloadmw knows sent this request (SERVER_SOFTWARE=%r): on a code "
            "change it will exit with status 3 (hook 'exit'), and a supervisor must start "
            "the process again",
            software,
        )
    return Exit()
