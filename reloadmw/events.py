"""The inotify backend: which watched files may have changed, without a stat per file.

No thread and no process: the kernel queues events on a non-blocking
descriptor, and a check reads whatever is queued. Directories are watched, not
files, so an editor's atomic save (write elsewhere, rename over) is seen too.
Whatever the events say, a full stat pass still runs every ``full_period``
seconds, because a bind mount or network file system changed from another
host delivers no events; so does one after a queue overflow or a watched
directory that went away.
"""

from __future__ import annotations

import errno
import logging
import os
import struct
from time import monotonic

from . import native

log = logging.getLogger("reloadmw")

MASK = (
    native.IN_MODIFY
    | native.IN_ATTRIB
    | native.IN_CLOSE_WRITE
    | native.IN_MOVED_FROM
    | native.IN_MOVED_TO
    | native.IN_CREATE
    | native.IN_DELETE
    | native.IN_DELETE_SELF
    | native.IN_MOVE_SELF
    | native.IN_ONLYDIR
)
#: Events after which only a full stat pass can tell what changed.
RESCAN = native.IN_Q_OVERFLOW | native.IN_DELETE_SELF | native.IN_MOVE_SELF | native.IN_IGNORED
HEADER = struct.Struct("iIII")  # struct inotify_event: wd, mask, cookie, len; then the name


class Unavailable(Exception):
    """inotify cannot serve here: the caller falls back to stat polling."""


class Inotify:
    """Directory watches, read on demand.

    :param full_period: seconds between full stat passes, whatever the events say.
    """

    def __init__(self, full_period: float = 10.0) -> None:
        try:
            self._fd = native.inotify_init()
        except OSError as error:
            raise Unavailable(f"inotify is not available here ({error})") from None
        self.full_period = full_period
        self._watches: dict[str, int] = {}  # directory -> watch descriptor
        self._directories: dict[int, str] = {}
        self._lost: set[str] = set()  # directories whose watch went away
        self._last_full = monotonic()

    def watch(self, path: str) -> None:
        """Watch the directory of ``path``; raises Unavailable at the watch limit."""
        directory = os.path.dirname(path)
        if directory in self._watches:
            return
        try:
            descriptor = native.inotify_add_watch(self._fd, directory, MASK)
        except OSError as error:
            if error.errno == errno.ENOSPC:
                raise Unavailable(
                    "the inotify watch limit is reached (fs.inotify.max_user_watches)"
                ) from None
            return  # a missing directory: the full passes cover what is in it
        self._watches[directory] = descriptor
        self._directories[descriptor] = directory

    def dirty(self) -> set[str] | None:
        """Paths that may have changed since the last call; None when a full pass is due."""
        paths: set[str] = set()
        full = monotonic() - self._last_full >= self.full_period
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                break
            except OSError as error:
                log.debug("reading inotify events failed: %s", error)
                full = True
                break
            offset = 0
            while offset + HEADER.size <= len(data):
                descriptor, mask, _, length = HEADER.unpack_from(data, offset)
                name = data[offset + HEADER.size : offset + HEADER.size + length].rstrip(b"\0")
                offset += HEADER.size + length
                directory = self._directories.get(descriptor)
                if mask & RESCAN or directory is None:
                    full = True
                    if directory is not None and mask & (
                        native.IN_IGNORED | native.IN_DELETE_SELF
                    ):
                        self._forget(directory)
                    continue
                paths.add(os.path.join(directory, os.fsdecode(name)))
        if self._lost:
            self._rewatch()
            full = True  # until they are watched again, only full passes see inside them
        if not full:
            return paths
        self._last_full = monotonic()
        return None

    def _forget(self, directory: str) -> None:
        descriptor = self._watches.pop(directory, None)
        self._directories.pop(descriptor, None)  # type: ignore[arg-type]
        self._lost.add(directory)

    def _rewatch(self) -> None:
        """Watch again the directories that went away and came back (a checkout, say)."""
        for directory in list(self._lost):
            self.watch(os.path.join(directory, ""))
            if directory in self._watches:
                self._lost.discard(directory)

    def close(self) -> None:
        os.close(self._fd)
