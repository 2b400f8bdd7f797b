"""Which successor answers here: from the hook, once it is prepared, and the options."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..hooks import ModWsgi
from .base import Restart, Successor
from .fresh import Fresh
from .handover import HandOver
from .replay import Replay
from .retry import Retry

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication, WSGIEnvironment

    from ..check import Check
    from ..collect import Entry
    from ..hooks import Hook
    from ..options import Options

log = logging.getLogger("reloadmw")

#: Said at INFO where nothing answers with the new code (an ini pipeline, an unknown server).
STALE_FIRST_PAGE = (
    "under hook %s the request that finds a change is answered by the old code (the next "
    "ones by the new); on_change='retry' answers it with a page that reloads itself"
)


def choose(
    hook: Hook,
    restart: Restart,
    *,
    options: Options,
    check: Check,
    environ: WSGIEnvironment,
    entry: Entry | None,
    ordinal: int,
    old: WSGIApplication,
    built_ns: int,
    reload_required: Callable[[str], bool],
) -> Successor:
    """The successor for a hook that can restart this process (``prepare`` said so)."""
    later: Successor | None = None
    if options.replay and isinstance(hook, ModWsgi):
        later = Replay(hook, restart, reload_required, environ)
    elif hook.successor == "new" and callable(forward := getattr(hook, "forward", None)):
        later = HandOver(hook, restart, forward)
    elif hook.successor == "fresh" and entry is not None and options.on_change == "restart":
        return Fresh(hook, restart, check=check, entry=entry, ordinal=ordinal, old=old,
                     built_ns=built_ns)  # fmt: skip
    if options.on_change == "retry":
        return Retry(hook, restart, later)
    if later is None:
        log.info(STALE_FIRST_PAGE, hook.name)
    return later or Successor(hook, restart)
