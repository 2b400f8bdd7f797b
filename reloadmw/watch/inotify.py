"""The inotify backend: which watched files may have changed, without a stat per file.

``InotifyBackend`` behind the ``Backend`` interface, with its own ctypes calls.

No thread and no process: the kernel queues events on a non-blocking
descriptor, and a check reads whatever is queued. Directories are watched, not
files, so an editor's atomic save (write elsewhere, rename over) is seen too.
Directories on a file system whose changes may come from elsewhere (a network
share, a FUSE or 9P mount: see ``mounts``) get no watch: their files are stat'ed
at every check instead. Whatever the events say, a full stat pass still runs
every ``full_period`` seconds, for what no event and no type can tell (a bind
mount changed underneath); so does one after a queue overflow or a watched
directory that went away. A process forked from the one that opened the descriptor
(uWSGI's workers, without ``lazy-apps``) shares the kernel's queue with its siblings,
and one's read would take another's events: each opens its own at its first check,
whose full pass covers the time in between.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import struct
import sys
from time import monotonic

from .backend import Backend, Unavailable
from .mounts import c_library, remote_kind, synced_state
from .sources import State, file_state
from .stat import StatBackend

log = logging.getLogger("reloadmw")

# inotify(7) constants, from <sys/inotify.h>.
IN_MODIFY = 0x00000002
IN_ATTRIB = 0x00000004
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_DELETE_SELF = 0x00000400
IN_MOVE_SELF = 0x00000800
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000
IN_ONLYDIR = 0x01000000

MASK = (
    IN_MODIFY
    | IN_ATTRIB
    | IN_CLOSE_WRITE
    | IN_MOVED_FROM
    | IN_MOVED_TO
    | IN_CREATE
    | IN_DELETE
    | IN_DELETE_SELF
    | IN_MOVE_SELF
    | IN_ONLYDIR
)
#: Events after which only a full stat pass can tell what changed.
RESCAN = IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED
HEADER = struct.Struct("iIII")  # struct inotify_event: wd, mask, cookie, len; then the name


def inotify_init() -> int:
    """A non-blocking inotify descriptor; OSError where there is none (not Linux, no fds)."""
    if sys.platform != "linux":
        raise OSError(errno.ENOSYS, f"no inotify on {sys.platform}")
    try:
        function = c_library().inotify_init1
    except (OSError, AttributeError) as error:
        raise OSError(errno.ENOSYS, f"no inotify in the C library: {error}") from error
    # IN_NONBLOCK and IN_CLOEXEC are O_NONBLOCK and O_CLOEXEC, whose values vary by architecture.
    descriptor = int(function(os.O_NONBLOCK | os.O_CLOEXEC))
    if descriptor < 0:
        number = ctypes.get_errno()
        raise OSError(number, os.strerror(number))
    return descriptor


def inotify_add_watch(descriptor: int, path: str, mask: int) -> int:
    """Watch ``path``; OSError with ENOSPC when the per-user watch limit is reached."""
    watch = int(
        c_library().inotify_add_watch(descriptor, os.fsencode(path), ctypes.c_uint32(mask))
    )
    if watch < 0:
        number = ctypes.get_errno()
        raise OSError(number, os.strerror(number), path)
    return watch


class InotifyBackend(Backend):
    """Directory watches, read on demand; a full stat pass when the events cannot tell.

    :param full_period: seconds between full stat passes, whatever the events say.
    """

    name = "inotify"

    def __init__(self, full_period: float = 10.0) -> None:
        self._full = StatBackend()
        self._fd, self._pid = -1, os.getpid()  # the queue, and the process it is of
        try:
            self._fd = inotify_init()
        except OSError as error:
            raise Unavailable(f"inotify is not available here ({error})") from None
        self.full_period = full_period
        self._watches: dict[str, int] = {}  # directory -> watch descriptor
        self._directories: dict[int, str] = {}
        self._lost: set[str] = set()  # directories whose watch went away
        self._last_full = monotonic()
        self._kinds: dict[str, str | None] = {}  # directory -> its remote kind, or None
        #: The files on remote file systems, stat'ed at every check, by kind.
        self.polled: dict[str, list[str]] = {}
        self._remote: set[str] = set()  # the same, together

    def watch(self, path: str) -> None:
        """Watch the directory of ``path``; raises Unavailable at the watch limit."""
        directory = os.path.dirname(path)
        if directory not in self._kinds:
            self._kinds[directory] = remote_kind(directory)
        if (kind := self._kinds[directory]) is not None:
            if path not in self._remote:
                self._remote.add(path)
                self.polled.setdefault(kind, []).append(path)
            return
        if directory in self._watches:
            return
        try:
            descriptor = inotify_add_watch(self._fd, directory, MASK)
        except OSError as error:
            if error.errno == errno.ENOSPC:
                raise Unavailable(
                    "the inotify watch limit is reached (fs.inotify.max_user_watches)"
                ) from None
            return  # a missing directory: the full passes cover what is in it
        self._watches[directory] = descriptor
        self._directories[descriptor] = directory

    def changed(self, baselines: dict[str, State], suspects: set[str]) -> list[str]:
        forked = self._pid != os.getpid()
        if forked:
            self._reopen()
        dirty = None if forked else self._dirty()  # (a full pass covers the time since)
        if dirty is None:
            return self._full.changed(baselines, suspects)
        found = [
            path
            for path in (dirty | suspects) - self._remote
            if path in baselines and file_state(path) != baselines[path]
        ]
        if self.polled:  # (each with a forced sync, reported before or not)
            found.extend(self._polled_changed(baselines))
        return found

    def _polled_changed(self, baselines: dict[str, State]) -> list[str]:
        """The files on remote file systems that changed, as their servers have them now."""
        return [
            path
            for paths in self.polled.values()
            for path in paths
            if synced_state(path) != baselines[path]
        ]

    def rebaseline(self) -> None:
        self._full.rebaseline()

    def _dirty(self) -> set[str] | None:
        """Paths that may have changed since the last call; None when a full pass is due."""
        if self._fd < 0:  # no queue of its own (see ``_reopen``)
            return None
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
                    if directory is not None and mask & (IN_IGNORED | IN_DELETE_SELF):
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

    def _reopen(self) -> None:
        """In a forked process: a queue of its own, the same directories watched (or, where
        it cannot have one, a full pass at every check, as the stat backend does)."""
        if self._fd >= 0:
            os.close(self._fd)  # (the parent's copy stays open)
        self._pid = os.getpid()
        directories = list(self._watches) + list(self._lost)
        self._watches, self._directories, self._lost = {}, {}, set()
        try:
            self._fd = inotify_init()
            for directory in directories:
                self.watch(os.path.join(directory, ""))
            self._lost = {d for d in directories if d not in self._watches}
        except (OSError, Unavailable) as error:
            log.warning("pid %d: no inotify of its own (%s); checking with stat instead",
                        self._pid, error)  # fmt: skip
            self._fd = -1
        self._last_full = monotonic()

    def close(self) -> None:
        if self._fd >= 0 and self._pid == os.getpid():
            os.close(self._fd)
        self._fd = -1

    def __del__(self) -> None:  # a queue is one of 128 per user (fs.inotify.max_user_instances)
        self.close()


def open_backend(name: str, full_period: float) -> Backend:
    """The backend named ``name``; stat, with one WARNING, where inotify cannot serve."""
    if name == "inotify":
        try:
            return InotifyBackend(full_period)
        except Unavailable as error:
            log.warning("%s; checking with stat instead", error)
    return StatBackend()
