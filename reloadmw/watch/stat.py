"""The stat backend: every watched file is stat'ed at each check, and compared in C.

Files on a file system whose changes may come from elsewhere (see ``mounts``) are
asked with ``synced_state``, so that no attribute cached by this kernel hides an
edit made underneath.

A file's state is ``(st_mtime_ns, st_size, st_ino)``, or None while it is
missing. Where ``dir_fd`` is supported, a directory with many watched files is
opened once and its files stat'ed relative to it (the kernel then resolves one
name per file instead of the whole path); Windows stats by whole path.
"""

from __future__ import annotations

import operator
import os
import sys

from .backend import Backend
from .mounts import remote_kind, synced_state
from .sources import State, file_state

_state_of = operator.attrgetter("st_mtime_ns", "st_size", "st_ino")

# The platform's choice, made once: Windows has no dir_fd.
if sys.platform == "win32":
    _DIR_FD, _DIRECTORY = False, 0
else:
    _DIR_FD = os.stat in os.supports_dir_fd
    _DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
#: Directories with fewer watched files are stat'ed by whole path: opening and
#: closing the directory costs two system calls, which a few files do not repay.
DIR_FD_GROUP = 8


def stat_directory(directory: str, names: list[str]) -> list[State]:
    """The states of files in one directory, stat'ed relative to it.

    The directory is opened for this pass only, so a directory replaced since
    (a checkout) cannot hide a change.
    """
    try:
        descriptor = os.open(directory, _DIRECTORY)
    except OSError:
        return [None] * len(names)
    stat = os.stat
    try:
        # A comprehension, not functools.partial: partial builds a keyword dict
        # on every call, which costs more here than the path walk saves.
        return list(map(_state_of, [stat(name, dir_fd=descriptor) for name in names]))
    except (OSError, ValueError):  # one of them is gone: that is a change
        return [file_state(os.path.join(directory, name)) for name in names]
    finally:
        os.close(descriptor)


def stat_paths(paths: list[str]) -> list[State]:
    """The states of files by whole path."""
    try:
        return list(map(_state_of, map(os.stat, paths)))
    except (OSError, ValueError):  # one of them is gone: that is a change
        return [file_state(path) for path in paths]


class StatBackend(Backend):
    """A full pass at every check: one list of states, compared with the baselines at once."""

    name = "stat"

    def __init__(self) -> None:
        self._size = -1  # len(baselines) when the groups below were built
        self._groups: list[tuple[str, list[str]]] = []  # directory, names
        self._loose: list[str] = []
        self._synced: list[str] = []  # on remote file systems: see ``mounts``
        self._order: list[str] = []  # the paths in the order a pass stats them
        self._baseline: list[State] = []
        self.polled: dict[str, list[str]] = {}

    def watch(self, path: str) -> None:
        pass  # the next pass regroups

    def close(self) -> None:
        pass

    def rebaseline(self) -> None:
        self._size = -1  # the next pass regroups, and takes the baselines anew

    def _regroup(self, baselines: dict[str, State]) -> None:
        by_directory: dict[str, list[str]] = {}
        for path in baselines:
            by_directory.setdefault(os.path.dirname(path), []).append(path)
        self._groups, self._loose, self._synced, order = [], [], [], []
        self.polled = {}
        for directory, paths in by_directory.items():
            if (kind := remote_kind(directory)) is not None:
                self._synced.extend(paths)
                self.polled.setdefault(kind, []).extend(paths)
            elif _DIR_FD and len(paths) >= DIR_FD_GROUP:
                self._groups.append((directory, [os.path.basename(p) for p in paths]))
                order.extend(paths)
            else:
                self._loose.extend(paths)
        self._order = order + self._loose + self._synced
        self._baseline = [baselines[p] for p in self._order]
        self._size = len(baselines)

    def group(self, baselines: dict[str, State]) -> None:
        """Group the paths for a pass, where they changed: watched paths are only ever
        added (or their baselines replaced, see ``rebaseline``), so the size tells."""
        if self._size != len(baselines):
            self._regroup(baselines)

    def changed(self, baselines: dict[str, State], suspects: set[str]) -> list[str]:
        self.group(baselines)
        current: list[State] = []
        for directory, names in self._groups:
            current.extend(stat_directory(directory, names))
        current.extend(stat_paths(self._loose))
        current.extend(map(synced_state, self._synced))
        if current == self._baseline:  # one comparison, in C
            return []
        return [
            p
            for p, old, new in zip(self._order, self._baseline, current, strict=True)
            if new != old
        ]
