"""Files on a mount that delivers no file events (FUSE here: bindfs) are stat'ed at every
check while inotify serves the rest; before, such an edit showed only after the 10 s pass."""

from __future__ import annotations

import pytest

from reloadmw.watch import Watcher
from reloadmw.watch.mounts import remote_kind
from tests.support import write
from tests.support.mounts import bindfs, require_fuse

pytestmark = pytest.mark.linux


@pytest.fixture
def mounted(tmp_path):
    """(underneath, mounted): one directory, and the same seen through bindfs."""
    require_fuse()
    underneath = tmp_path / "underneath"
    write(underneath / "conf" / "app.cfg", "1\n")
    with bindfs(underneath, tmp_path / "mounted") as mounted:
        yield underneath, mounted


def test_a_fuse_mount_is_told_from_a_local_directory(mounted, tmp_path):
    underneath, mountpoint = mounted
    assert remote_kind(str(mountpoint / "conf")) == "fuse"
    assert remote_kind(str(underneath / "conf")) is None
    assert remote_kind(str(tmp_path / "no such directory")) is None


def test_an_edit_underneath_is_found_at_the_next_check(mounted, tmp_path):
    underneath, mountpoint = mounted
    local = write(tmp_path / "local.cfg", "1\n")
    watcher = Watcher([str(mountpoint / "conf" / "app.cfg"), str(local)], backend="inotify")
    assert watcher.backend == "inotify"
    assert watcher.check() == []
    assert watcher.polled == {"fuse": 1}
    write(underneath / "conf" / "app.cfg", "2\n")  # not through the mount: no event
    assert watcher.check() == [str(mountpoint / "conf" / "app.cfg")]
    write(local, "2\n")  # the local file is still served by inotify's events
    assert sorted(watcher.check()) == sorted([str(mountpoint / "conf" / "app.cfg"), str(local)])


def test_the_stat_backend_asks_past_the_kernels_attribute_cache(mounted):
    # FUSE caches a file's attributes for a second: a plain stat just after the
    # previous one still gave the old size and mtime.
    underneath, mountpoint = mounted
    watcher = Watcher([str(mountpoint / "conf" / "app.cfg")], backend="stat")
    assert watcher.check() == []
    assert watcher.polled == {"fuse": 1}
    assert "stat backend; 1 file on fuse stat'ed at every check" in watcher.describe()
    write(underneath / "conf" / "app.cfg", "2\n")
    assert watcher.check() == [str(mountpoint / "conf" / "app.cfg")]
