"""How does this server restart? One module per server family, and the choice among them.

A hook is a callable that takes the changed paths and ends this process so
that the server starts a fresh one; it only restarts. ``hook="auto"`` picks one
from the first request's environ (``detect``); facts and measurements per server
are in the project's SERVERS.md.

- ``base``: ``Hook``, ``AppInfo``, ``CallableHook``, ``NoRestart``.
- ``signals``: ``signal:NAME`` and ``exit``.
- ``mod_wsgi``: daemon mode's SIGINT, and the request replay (``reload_required``).
- ``apache_windows``: embedded mode on Windows, ``ap_signal_parent`` with its ctypes code.
- ``gunicorn`` and ``uwsgi``, with ``siblings``: one reload per edit among sibling workers.
- ``choose``: ``resolve`` (the ``hook=`` option) and ``detect`` (``"auto"``).
"""

from typing import TYPE_CHECKING, Any

from .base import AppInfo, CallableHook, Hook, NoRestart

if TYPE_CHECKING:
    from .apache_windows import ApacheSignalParent
    from .choose import HOOK_NAMES, detect, resolve
    from .gunicorn import Gunicorn
    from .mod_wsgi import ModWsgi
    from .signals import Exit, SendSignal
    from .uwsgi import Uwsgi

#: Where each name is, imported when first used: ``import reloadmw`` needs none of them.
_LAZY = {
    "ApacheSignalParent": "apache_windows", "Gunicorn": "gunicorn", "ModWsgi": "mod_wsgi",
    "Exit": "signals", "SendSignal": "signals", "Uwsgi": "uwsgi",
    "HOOK_NAMES": "choose", "detect": "choose", "resolve": "choose",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)


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
