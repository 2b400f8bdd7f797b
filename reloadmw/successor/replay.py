"""mod_wsgi daemon mode: the request that finds a change is replayed in the new process."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..hooks import mod_wsgi
from .base import Restart, Successor

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

    from ..hooks import Hook


class Replay(Successor):
    """mod_wsgi calls the WSGI script's ``reload_required(resource)`` before it hands a
    request to the application; where it says True, mod_wsgi restarts the daemon process
    and hands the same request to the new one. So the check runs there (see
    ``ReloadMiddleware.reload_required``), the application never sees the request that
    found the change, and the old code answers nothing after it.
    """

    name = "the new process (mod_wsgi's replay)"

    def __init__(
        self,
        hook: Hook,
        restart: Restart,
        reload_required: Callable[[str], bool],
        environ: WSGIEnvironment,
    ) -> None:
        super().__init__(hook, restart)
        mod_wsgi.install(reload_required, environ)
