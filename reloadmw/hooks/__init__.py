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

from .apache_windows import ApacheSignalParent
from .base import AppInfo, CallableHook, Hook, NoRestart
from .choose import HOOK_NAMES, detect, resolve
from .gunicorn import Gunicorn
from .mod_wsgi import ModWsgi
from .signals import Exit, SendSignal
from .uwsgi import Uwsgi

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
