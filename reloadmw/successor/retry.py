"""``on_change="retry"``: a page that reloads itself answers the GET that finds a change."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .base import Restart, Successor

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from ..collect import Entry
    from ..hooks import Hook

#: The requests whose check runs first: a page can come back as a retry page.
RETRIED = ("GET", "HEAD")


class Retry(Successor):
    """A GET or HEAD that finds a change gets a small page that reloads itself (and the
    hook restarts once it is sent); any other request is answered by the old code, and
    checks after. Once the change is found, ``later`` answers (``reloadmw serve``'s new
    process), where there is one.
    """

    name = "a retry page"

    def __init__(self, hook: Hook, restart: Restart, later: Successor | None = None) -> None:
        super().__init__(hook, restart)
        self.later = later
        if later is not None:
            self.then, self.answers_polls = later.then, later.answers_polls
            self.restart_first = later.restart_first

    def gate(self, entry: Entry, states: list[tuple[str, object]]) -> str | None:
        if self.later is not None:
            return self.later.gate(entry, states)
        return super().gate(entry, states)

    def checks_first(self, environ: WSGIEnvironment) -> bool:
        return environ.get("REQUEST_METHOD") in RETRIED

    def answer(
        self, environ: WSGIEnvironment, start_response: StartResponse, changed: list[str]
    ) -> Iterable[bytes]:
        if not changed and self.later is not None:
            return self.later.answer(environ, start_response, changed)
        return super().answer(environ, start_response, changed)
