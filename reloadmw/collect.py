"""Which middlewares were built, and by what: for loaders and for fresh interpreters."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .middleware import ReloadMiddleware

#: How many middlewares each entry module built (the fresh interpreter builds them again).
built_by: dict[str, int] = {}

#: The lists that ``collecting`` hands out, innermost last.
collectors: contextvars.ContextVar[tuple[list[ReloadMiddleware], ...]] = contextvars.ContextVar(
    "reloadmwcollectors", default=()
)


@contextlib.contextmanager
def collecting() -> Iterator[list[ReloadMiddleware]]:
    """The middlewares built in this context: what loading an application built itself.

    A loader uses it to tell an application that wraps itself (an ini file's
    ``[filter:reload]``) from one it must wrap, and ``reloadmw serve`` to give
    those its hand-over hook.
    """
    built: list[ReloadMiddleware] = []
    token = collectors.set((*collectors.get(), built))
    try:
        yield built
    finally:
        collectors.reset(token)
