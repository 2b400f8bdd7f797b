"""How the preload template imports a library, and what it asks of the import.

A finder (``LibrariesOnly``) stops the project's code and the modules left out
before they run; ``state`` is what an import must leave as it was; a failed
import's submodules are forgotten (``forget_orphans``); the errors and warnings
that libraries raise while the template imports them stay out of the terminal.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import logging
import os
import sys
import threading
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import TextIO

from ..watch.sources import OWN, is_site_path, library_dirs

log = logging.getLogger("reloadmw")

#: reloadmw's own files: the template runs them, they are no project code.


class ProjectCode(BaseException):
    """Raised by the template's finder before a module from outside the libraries runs,
    or one left out, runs (not an ImportError, which a library could catch and go on
    without it)."""


class Libraries:
    """Where the libraries are: the standard library's and site-packages' directories."""

    def __init__(self) -> None:
        self.stdlib, self.site = library_dirs()

    def holds(self, path: str) -> bool:
        return path.startswith((*self.stdlib, OWN)) or is_site_path(path, self.site)


class LibrariesOnly(importlib.abc.MetaPathFinder):
    """First on ``sys.meta_path`` in the template: a module found outside the libraries
    raises ProjectCode before any of it runs."""

    def __init__(self, libraries: Libraries) -> None:
        self._libraries = libraries
        #: Modules left out (with their submodules): never imported here.
        self.avoid: set[str] = set()

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if self.avoid and any(name == a or name.startswith(f"{a}.") for a in self.avoid):
            raise ProjectCode(name)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        origin = spec.origin if spec is not None and spec.has_location else None
        if origin and not self._libraries.holds(origin):
            raise ProjectCode(name)
        return None  # the usual finders find it again


def state() -> tuple[object, ...]:
    """What an import must leave as it was: descriptors, threads, directory, environment."""
    descriptors = len(os.listdir("/proc/self/fd"))
    threads = max(threading.active_count(), len(os.listdir("/proc/self/task")))
    return descriptors, threads, os.getcwd(), dict(os.environ), list(sys.path)


def forget_orphans(before: set[str]) -> list[str]:
    """Take out of ``sys.modules`` the modules imported since ``before`` whose package is
    not there (its import failed): a later import of the package runs it whole again."""
    forgotten: list[str] = []
    while orphans := [
        name
        for name in set(sys.modules) - before
        if "." in name and name.rpartition(".")[0] not in sys.modules
    ]:
        for name in orphans:
            del sys.modules[name]
        forgotten += orphans
    return forgotten


def quiet_unraisable(unraisable: sys.UnraisableHookArgs) -> None:
    """An error in a destructor or a callback while the template imports (Django's lazy
    settings asked for before there are any): the application's process never sees it."""
    log.debug("ignored in the preload template: %r", unraisable.exc_value)


def quiet_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """A library's warning at import (pkg_resources' deprecation): the first server process
    showed it already, and the forked ones, which do not import it again, need not."""
    log.debug("warning in the preload template: %s: %s", category.__name__, message)


CHANGES = (
    "it kept a file or a socket open",
    "it started a thread",
    "it changed the working directory",
    "it changed the environment",
    "it changed sys.path",
)
