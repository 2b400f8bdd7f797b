"""The one small interface behind which the backends answer "which watched files changed?".

A backend is told each watched path with its baseline state, and on a check
returns the paths whose state differs now. The stat backend stats every file;
the inotify backend stats only the files that the kernel's events name (and
everything, now and then). ``Watcher`` chooses one in ``open_backend``.
"""

from __future__ import annotations

import abc

from .sources import State


class Unavailable(Exception):
    """This backend cannot serve here (no inotify, a watch limit): fall back to stat."""


class Backend(abc.ABC):
    #: The name accepted by the ``backend`` option.
    name: str

    @abc.abstractmethod
    def watch(self, path: str) -> None:
        """Start watching ``path``; raises Unavailable when this backend can watch no more."""

    @abc.abstractmethod
    def changed(self, baselines: dict[str, State], suspects: set[str]) -> list[str]:
        """The paths of ``baselines`` whose state differs from it now.

        ``suspects`` must be looked at whatever else the backend knows: their
        baseline is unknown or missing.
        """

    @abc.abstractmethod
    def close(self) -> None:
        """Release what the backend holds."""
