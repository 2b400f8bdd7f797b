"""A FUSE mount for the tests: a bindfs view of a directory, edited from underneath.

That is what Docker Desktop's file sharing, WSL 2's Windows drives (9P), NFS and SMB
shares do to a watcher: the files change without passing through the mount, so no
inotify event comes. bindfs (Debian's package; tests/install.sh installs it) needs
/dev/fuse: where that is missing the tests that use it skip, with the reason (and fail
under CI=true, where the set-up must provide it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .network import wait_for


def require_fuse() -> None:
    """Skip the test where no FUSE mount can be made here, saying why; under CI=true,
    fail instead."""
    if not os.path.exists("/dev/fuse"):
        _unavailable("no /dev/fuse here (a container without the FUSE device)")
    if shutil.which("bindfs") is None:
        _unavailable("bindfs is not installed (tests/install.sh installs it)")


def _unavailable(why: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why}: under CI the README's test command must provide it")
    pytest.skip(why)


@contextmanager
def bindfs(source: Path, mountpoint: Path) -> Iterator[Path]:
    """``source`` seen through a FUSE mount at ``mountpoint``; unmounted afterwards."""
    mountpoint.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["bindfs", "--no-allow-other", str(source), str(mountpoint)],
                          capture_output=True, text=True, timeout=30)  # fmt: skip
    if done.returncode != 0:
        _unavailable(f"bindfs could not mount here: {done.stderr.strip()}")
    try:
        wait_for(lambda: os.path.ismount(mountpoint), 10, what="the bindfs mount")
        yield mountpoint
    finally:
        unmount = shutil.which("fusermount3") or shutil.which("fusermount")
        command = [unmount, "-u", "-z"] if unmount else ["umount", "-l"]
        subprocess.run([*command, str(mountpoint)], capture_output=True, timeout=30)
