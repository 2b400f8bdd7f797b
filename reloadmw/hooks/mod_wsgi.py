"""mod_wsgi daemon mode: SIGINT to the daemon process, and the request replay.

The replay puts reloadmw's check in the WSGI script's ``reload_required`` (chained with
the script's own, such as mod_wsgi-express's handler has).

mod_wsgi daemon mode looks up a module-level ``reload_required(resource)`` in
the WSGI script's module before each request, every time (so assigning it
after start-up works). When it returns True, the daemon process restarts and
the same request is replayed on the new process. The script's module is the
one in sys.modules whose ``__file__`` is the environ's ``SCRIPT_FILENAME``.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING

from ..watch import module_file
from .base import AppInfo
from .signals import SendSignal

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

log = logging.getLogger("reloadmw")

ONE_LINER = "reload_required = application.reload_required"


def script_module(environ: WSGIEnvironment) -> ModuleType | None:
    """The module that mod_wsgi loaded from the request's WSGI script, if any.

    Under a ``WSGIHandlerScript`` (mod_wsgi-express serves every application
    through its generated ``handler.wsgi``), that is the handler script, which
    mod_wsgi names in ``mod_wsgi.handler_script``; otherwise ``SCRIPT_FILENAME``.
    """
    script = environ.get("mod_wsgi.handler_script") or environ.get("SCRIPT_FILENAME")
    if not isinstance(script, str) or not script:
        return None
    wanted = {os.path.abspath(script), os.path.realpath(script)}
    for module in list(sys.modules.copy().values()):
        path = module_file(module)
        if path is not None and (path in wanted or os.path.realpath(path) in wanted):
            return module
    return None


def install(check: Callable[[str], bool], environ: WSGIEnvironment) -> bool:
    """Make ``check`` the script's ``reload_required``; True if done.

    A script with a ``reload_required`` of its own (mod_wsgi-express's generated
    handler has one that answers True when the WSGI script file changed) keeps
    it, chained: the request is replayed when either says so.
    """
    module = script_module(environ)
    if module is None:
        log.debug(
            "no module for the WSGI script %r: no request replay; add %r to the script",
            environ.get("SCRIPT_FILENAME"),
            ONE_LINER,
        )
        return False
    own = vars(module).get("reload_required")
    if own is None or own == check:  # none yet, or the documented one-liner
        module.reload_required = check  # type: ignore[attr-defined]
        log.debug("installed the request replay in the WSGI script %s", module_file(module))
        return True
    if getattr(own, "reloadmw_chained", False):
        return True

    def reload_required(resource: str) -> bool:
        return check(resource) or bool(own(resource))

    reload_required.reloadmw_chained = True  # type: ignore[attr-defined]
    module.reload_required = reload_required  # type: ignore[attr-defined]
    log.debug("chained the request replay with %s's own reload_required", module_file(module))
    return True


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
