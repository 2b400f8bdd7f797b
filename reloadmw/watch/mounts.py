"""Which directories are on a file system whose changes may come from elsewhere.

inotify sees the changes made through this kernel only. A network file system
(NFS, SMB), a FUSE mount (bindfs, sshfs, Docker Desktop's file sharing and its
virtiofs), 9P (WSL 2's Windows drives, some VMs' shared folders) and the
hypervisors' shared folders can change underneath, from another host or the host
the VM runs in, and deliver no event. The inotify backend stats the files in such
directories at every check instead; ``remote_kind`` tells them apart by the file
system's type, as ``statfs(2)`` gives it (Linux; elsewhere no directory is one).

Such file systems also cache attributes (FUSE for 1 s by default, NFS for 3 s and
more), so a plain ``stat`` just after a save underneath may still say what it said
before. ``synced_state`` asks with ``statx(2)``'s ``AT_STATX_FORCE_SYNC``, which
makes FUSE, NFS and CIFS ask their server (about 11 us a file on a bindfs mount,
against 1 us for a local ``stat``); without statx it falls back to ``stat``.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import struct
import sys

from .sources import State, file_state

#: statfs(2)'s f_type for file systems whose changes may come from elsewhere, with a
#: name for people (<linux/magic.h> and the file systems' own headers).
REMOTE: dict[int, str] = {
    0x65735546: "fuse",  # bindfs, sshfs, virtiofs, Docker Desktop's sharing, vmhgfs-fuse
    0x01021997: "9p",  # WSL 2's drives, QEMU's and some VMs' shared folders
    0x00006969: "nfs",
    0x0000517B: "smb",
    0xFF534D42: "cifs",
    0xFE534D42: "smb2",
    0x786F4256: "vboxsf",  # VirtualBox's shared folders
    0x7C7C6673: "prl_fs",  # Parallels' shared folders
    0x00C36400: "ceph",
    0x5346414F: "afs",
    0x6B414653: "afs",
    0x73757245: "coda",
    0x01161970: "gfs2",
    0x7461636F: "ocfs2",
    0x0BD00BD0: "lustre",
    0x47504653: "gpfs",
    0x013111A8: "ibrix",
}

_libc: ctypes.CDLL | None = None


def c_library() -> ctypes.CDLL:
    """The C library, loaded once for the package (statfs, statx, inotify)."""
    global _libc
    if _libc is None:
        if sys.platform == "linux":  # the interpreter's own symbols, the C library's among them
            _libc = ctypes.CDLL(None, use_errno=True)  # (find_library costs 10 ms of imports)
        else:
            from ctypes.util import find_library

            _libc = ctypes.CDLL(find_library("c"), use_errno=True)
    return _libc


_STATFS_SIZE = 256  # larger than struct statfs on every architecture


def _statfs_type(directory: str) -> int | None:
    """The f_type of the file system that holds ``directory``; None where unknown."""
    buffer = ctypes.create_string_buffer(_STATFS_SIZE)
    try:
        if c_library().statfs(os.fsencode(directory), buffer) != 0:
            return None
    except (OSError, AttributeError, ValueError):
        return None
    # f_type comes first: a long on most architectures, a 32-bit int on s390x.
    value = ctypes.c_ulong.from_buffer(buffer).value
    if value > 0xFFFFFFFF and sys.byteorder == "big":
        value >>= 32
    return value & 0xFFFFFFFF


@functools.lru_cache(maxsize=4096)
def remote_kind(directory: str) -> str | None:
    """The kind of file system (``"fuse"``, ``"nfs"``, ...) when ``directory`` is on one
    that may change underneath without an inotify event; None when it is local (or on
    a platform where this cannot be told)."""
    if sys.platform != "linux":
        return None
    kind = _statfs_type(directory)
    return None if kind is None else REMOTE.get(kind)


# statx(2), from <linux/stat.h>: the flag, the fields asked for, and where they are.
_AT_FDCWD = -100
_AT_STATX_FORCE_SYNC = 0x2000
_STATX_MASK = 0x40 | 0x100 | 0x200  # STATX_MTIME | STATX_INO | STATX_SIZE
_STATX_SIZE = 256  # sizeof(struct statx)
_INO_AND_SIZE = struct.Struct("=QQ")  # stx_ino, stx_size at offset 32
_MTIME = struct.Struct("=qI")  # stx_mtime (tv_sec, tv_nsec) at offset 112
_statx_missing = sys.platform != "linux"


def synced_state(path: str) -> State:
    """The state of ``path`` as the file system's server has it now (``file_state`` where
    statx is missing): no attribute cached by this kernel hides an edit underneath."""
    global _statx_missing
    if _statx_missing or "\0" in path:
        return file_state(path)
    buffer = ctypes.create_string_buffer(_STATX_SIZE)
    try:
        status = c_library().statx(_AT_FDCWD, os.fsencode(path), _AT_STATX_FORCE_SYNC,
                                   _STATX_MASK, buffer)  # fmt: skip
    except (AttributeError, OSError):  # a C library older than statx (glibc 2.28)
        _statx_missing = True
        return file_state(path)
    if status != 0:
        if ctypes.get_errno() in (errno.ENOSYS, errno.EPERM):  # a kernel or sandbox without it
            _statx_missing = True
            return file_state(path)
        return None
    inode, size = _INO_AND_SIZE.unpack_from(buffer, 32)
    seconds, nanoseconds = _MTIME.unpack_from(buffer, 112)
    return (seconds * 1_000_000_000 + nanoseconds, size, inode)
