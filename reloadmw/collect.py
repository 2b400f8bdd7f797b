"""Which middlewares were built, and by what: for loaders and for fresh interpreters."""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING

from .watch.sources import OWN, library_dirs

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


@dataclass(frozen=True)
class Entry:
    """The module that built the middleware: imported by name, or run from its file."""

    name: str
    path: str
    importable: bool

    def __str__(self) -> str:
        return self.name if self.importable else self.path

    @property
    def kind(self) -> str:
        """How a fresh interpreter loads it: ``"module"`` (by name) or ``"path"`` (the file)."""
        return "module" if self.importable else "path"


def find_entry(frame: FrameType | None) -> Entry | None:
    """The first caller outside reloadmw, the standard library and site-packages."""
    stdlib, site = library_dirs()
    skip = (OWN, *stdlib, *site)
    while frame is not None:
        path = frame.f_globals.get("__file__")
        main = frame.f_globals.get("__name__") == "__main__"  # a script that serves: not run
        if (
            isinstance(path, str)
            and path
            and not main
            and not frame.f_code.co_filename.startswith("<")
        ):
            path = os.path.abspath(path)
            if not path.startswith(skip) and os.path.isfile(path):
                name = str(frame.f_globals.get("__name__") or "")
                importable = _importable_as(name, path)
                return Entry(name, path, importable)
        frame = frame.f_back
    return None


def _importable_as(name: str, path: str) -> bool:
    """Whether ``import name`` finds ``path`` from ``sys.path`` (mod_wsgi's and uWSGI's
    script modules have names that no import would find: those are run by path)."""
    if not name or name == "__main__" or not all(p.isidentifier() for p in name.split(".")):
        return False
    relative = os.path.join(*name.split("."))
    for tail in (relative + ".py", os.path.join(relative, "__init__.py")):
        if path.endswith(os.sep + tail):
            root = path[: -len(tail) - 1]
            return any(os.path.abspath(entry or os.curdir) == root for entry in sys.path)
    return False
