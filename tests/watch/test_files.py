"""Odd file systems: each case is a change, or documented as none, and no check raises.

Documented (docs: troubleshooting): a chmod alone, or an edit that restores the
exact mtime (to the nanosecond), size and inode, is no change; a file that can
no longer be stat'ed (EACCES, ENAMETOOLONG) counts as a change, like a deletion.
"""

from __future__ import annotations

import errno
import os
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reloadmw.watch import Watcher, file_state

pytestmark = pytest.mark.posix


def watch(path) -> Watcher:
    return Watcher(extra_files=[os.fspath(path)])


def changed(watcher: Watcher, path) -> bool:
    return os.fspath(path) in watcher.check()


@pytest.fixture
def target(tmp_path):
    path = tmp_path / "watched.cfg"
    path.write_text("a = 1\n")
    return path


def test_unreadable_file_stat_fails(target, monkeypatch):
    watcher = watch(target)
    real_stat = os.stat

    def denied(path, *args, **kwargs):
        relative = kwargs.get("dir_fd") is not None and os.fspath(path) == target.name
        if relative or os.fspath(path) == os.fspath(target):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", denied)
    assert changed(watcher, target)  # like a deletion


def test_chmod_alone_is_no_change(target):
    watcher = watch(target)
    target.chmod(0o000)
    try:
        assert not changed(watcher, target)
    finally:
        target.chmod(0o644)


def test_becomes_a_directory(target):
    watcher = watch(target)
    target.unlink()
    target.mkdir()
    assert changed(watcher, target)


def test_becomes_a_dangling_symlink(target, tmp_path):
    watcher = watch(target)
    target.unlink()
    target.symlink_to(tmp_path / "nowhere")
    assert changed(watcher, target)


def test_symlink_target_swapped(tmp_path):
    first, second = tmp_path / "one.cfg", tmp_path / "two.cfg"
    first.write_text("same\n")
    second.write_text("same\n")
    os.utime(second, ns=(first.stat().st_atime_ns, first.stat().st_mtime_ns))
    link = tmp_path / "current.cfg"
    link.symlink_to(first)
    watcher = watch(link)
    link.unlink()
    link.symlink_to(second)  # same size and mtime: only the inode differs
    assert changed(watcher, link)


def test_non_utf8_name(tmp_path):
    name = os.fsdecode(b"caf\xe9-\xff.cfg")
    path = tmp_path / name
    path.write_text("x\n")
    watcher = watch(path)
    assert not changed(watcher, path)
    path.write_text("xy\n")
    assert changed(watcher, path)


def test_long_paths(tmp_path):
    deep = tmp_path.joinpath(*["d" * 60] * 15)  # about 900 characters: longer than usual
    deep.mkdir(parents=True)
    path = deep / "settings.cfg"
    path.write_text("x\n")
    watcher = watch(path)
    assert not changed(watcher, path)
    path.write_text("xy\n")
    assert changed(watcher, path)
    too_long = str(tmp_path / ("x" * 5000))  # past PATH_MAX: cannot even be stat'ed
    assert file_state(too_long) is None
    assert not changed(watch(too_long), too_long)


@pytest.mark.parametrize("mtime_ns", [-86_400 * 10**9, 0, 4_102_444_800 * 10**9])
def test_mtime_before_1970_or_in_the_future(target, mtime_ns):
    os.utime(target, ns=(mtime_ns, mtime_ns))
    watcher = watch(target)
    assert not changed(watcher, target)
    os.utime(target, ns=(mtime_ns, mtime_ns + 1))
    assert changed(watcher, target)


def test_two_edits_in_one_second_that_keep_the_size(target):
    watcher = watch(target)
    for text in ("a = 2\n", "a = 3\n"):
        time.sleep(0.02)  # past a tick of the kernel's coarse file clock, well within a second
        target.write_text(text)
    assert changed(watcher, target)  # nanosecond mtimes tell them apart


def test_an_edit_that_restores_mtime_size_and_inode_is_invisible(target):
    """Documented: stat polling cannot see it (no peer can either)."""
    before = target.stat()
    watcher = watch(target)
    with open(target, "r+") as stream:  # same inode
        stream.write("a = 9\n")  # same size
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert not changed(watcher, target)


def test_touch_without_a_content_change_is_a_change(target):
    """Documented: as for every peer, a newer mtime is a change."""
    watcher = watch(target)
    stat = target.stat()
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert changed(watcher, target)


OPERATIONS = st.sampled_from(
    ["same-size", "other-size", "touch", "older", "delete", "recreate", "directory", "chmod"]
)


def apply(path, operation: str) -> None:
    if path.is_dir():
        path.rmdir()
        path.write_text("back\n")
    if operation == "same-size":
        path.write_text("x" * len(path.read_bytes()) if path.exists() else "x")
    elif operation == "other-size":
        path.write_text("y" * (len(path.read_bytes()) + 1 if path.exists() else 1))
    elif operation == "touch" and path.exists():
        os.utime(path, ns=(0, path.stat().st_mtime_ns + 1))
    elif operation == "older" and path.exists():
        os.utime(path, ns=(0, path.stat().st_mtime_ns - 10**9))
    elif operation == "delete" and path.exists():
        path.unlink()
    elif operation == "recreate":
        if path.exists():
            path.unlink()
        path.write_text("new\n")
    elif operation == "directory":
        if path.exists():
            path.unlink()
        path.mkdir()
    elif operation == "chmod" and path.exists():
        path.chmod(0o600)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=st.lists(OPERATIONS, min_size=1, max_size=6))
def test_any_sequence_of_operations(tmp_path, operations):
    path = tmp_path / "fuzzed.cfg"
    if path.is_dir():
        path.rmdir()
    path.write_text("start\n")
    watcher = watch(path)
    baseline = file_state(os.fspath(path))
    for operation in operations:
        apply(path, operation)
        reported = changed(watcher, path)  # never raises
        assert reported == (file_state(os.fspath(path)) != baseline)
