"""A FUSE mount for the tests: a bindfs view of a directory, edited from underneath.

That is what Docker Desktop's file sharing, WSL 2's Windows drives (9P), NFS and SMB
shares do to a watcher: the files change without passing through the mount, so no
inotify event comes. bindfs (Debian's package; tests/install.sh installs it) needs
/dev/fuse: where that is missing the tests that use it skip, with the reason.
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


def fuse_missing() -> str | None:
    """Why no FUSE mount can be made here, or None."""
    if not os.path.exists("/dev/fuse"):
        return "no /dev/fuse here (a container without the FUSE device)"
    if shutil.which("bindfs") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("bindfs is not installed: run the README's test command, which does")
        return "bindfs is not installed (tests/install.sh installs it)"
    return None


@contextmanager
def bindfs(source: Path, mountpoint: Path) -> Iterator[Path]:
    """``source`` seen through a FUSE mount at ``mountpoint``; unmounted afterwards."""
    mountpoint.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["bindfs", "--no-allow-other", str(source), str(mountpoint)],
                          capture_output=True, text=True, timeout=30)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"bindfs could not mount here: {done.stderr.strip()}")
    try:
        wait_for(lambda: os.path.ismount(mountpoint), 10, what="the bindfs mount")
        yield mountpoint
    finally:
        unmount = shutil.which("fusermount3") or shutil.which("fusermount")
        command = [unmount, "-u", "-z"] if unmount else ["umount", "-l"]
        subprocess.run([*command, str(mountpoint)], capture_output=True, timeout=30)
