"""The one small interface behind which the backends answer "which watched files changed?".

A backend is told each watched path with its baseline state, and on a check
returns the paths whose state differs now. The stat backend stats every file;
the inotify backend stats only the files that the kernel's events name (and
everything, now and then). ``inotify.open_backend`` chooses one for the ``Watcher``.
"""

from __future__ import annotations

import abc

from .sources import State


class Unavailable(Exception):
    """This backend cannot serve here (no inotify, a watch limit): fall back to stat."""


class Backend(abc.ABC):
    #: The name accepted by the ``backend`` option.
    name: str
    #: The watched files on a file system whose changes may come from elsewhere, by its
    #: kind (``reloadmw.watch.mounts``): asked of the file system at every check.
    polled: dict[str, list[str]]

    @abc.abstractmethod
    def watch(self, path: str) -> None:
        """Start watching ``path``; raises Unavailable when this backend can watch no more."""

    @abc.abstractmethod
    def changed(self, baselines: dict[str, State], suspects: set[str]) -> list[str]:
        """The paths of ``baselines`` whose state differs from it now.

        ``suspects`` must be looked at whatever else the backend knows: their
        baseline is unknown or missing.
        """

    def group(self, baselines: dict[str, State]) -> None:  # noqa: B027 - most need not
        """Sort the watched paths out, as a check would, before ``polled`` is read."""

    def describe(self) -> str:
        """For the start-up line: ``"inotify backend"``, with the files on shares (which
        both backends ask of their file system at every check: no event comes from there,
        and the kernel may cache what it says)."""
        if not self.polled:
            return f"{self.name} backend"
        count = sum(map(len, self.polled.values()))
        shares = ", ".join(sorted(self.polled))
        files = f"{count} file{'' if count == 1 else 's'}"
        return f"{self.name} backend; {files} on {shares} stat'ed at every check"

    def rebaseline(self) -> None:  # noqa: B027 - most backends keep no copy of them
        """Some baselines were replaced (a template read again): compare with the new ones."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release what the backend holds."""
