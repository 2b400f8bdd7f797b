"""``reloadmw serve``: the new process answers, from the request that found the change on."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..check import State
from .base import Restart, Successor

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from ..collect import Entry
    from ..hooks import Hook


class HandOver(Successor):
    """The hook (serve's) tells the supervisor, which starts the new process; this one
    stops accepting, and sends it the request that found the change and every later one
    (a keep-alive connection's, a live-reload poll), streaming its answers back. The new
    process guards itself: no import pre-flight here.
    """

    name = "the new process"
    then = State.HANDED_OVER
    holds = True
    restart_first = True
    answers_polls = True

    def __init__(self, hook: Hook, restart: Restart, forward: WSGIApplication) -> None:
        super().__init__(hook, restart)
        self._forward = forward

    def gate(self, entry: Entry, states: list[tuple[str, object]]) -> str | None:
        return None  # the new process guards itself

    def answer(
        self, environ: WSGIEnvironment, start_response: StartResponse, changed: list[str]
    ) -> Iterable[bytes]:
        if changed:
            self.restart(changed, environ)
        return self._forward(environ, start_response)
