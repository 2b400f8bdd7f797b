"""The inotify backend: events name the files to stat; full passes cover what they miss."""

from __future__ import annotations

import errno
import importlib
import logging
import os
import shutil

import pytest

from reloadmw import ReloadMiddleware
from reloadmw.watch import Watcher
from reloadmw.watch import inotify as inotify_backend
from tests.support import write

pytestmark = pytest.mark.linux


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "conf").mkdir()
    return [write(tmp_path / "conf" / f"f{n}.cfg", f"{n}\n") for n in range(3)]


def inotify(paths, **options) -> Watcher:
    watcher = Watcher(extra_files=[str(p) for p in paths], backend="inotify", **options)
    assert watcher.backend == "inotify"
    return watcher


def test_an_edit_is_found_through_events(tree):
    watcher = inotify(tree)
    assert watcher.check() == []
    write(tree[1], "changed\n")
    assert watcher.check() == [str(tree[1])]


@pytest.mark.parametrize("backend", ["stat", "inotify"])
def test_a_change_is_reported_at_every_check_until_it_is_undone(tree, backend):
    """A broken edit keeps the process (syntax check): the next checks must still see it."""
    watcher = Watcher(extra_files=[str(p) for p in tree], backend=backend)
    before = tree[1].stat()
    write(tree[1], "changed\n")
    assert watcher.check() == watcher.check() == [str(tree[1])]
    write(tree[1], "1\n")  # as it was, to the byte and the nanosecond
    os.utime(tree[1], ns=(before.st_atime_ns, before.st_mtime_ns))
    if tree[1].stat().st_ino == before.st_ino:  # undone to the nanosecond: no change
        assert watcher.check() == []


@pytest.mark.parametrize("operation", ["atomic-save", "delete", "touch", "recreate"])
def test_other_kinds_of_change(tree, operation):
    watcher = inotify(tree)
    target = tree[0]
    if operation == "atomic-save":
        temporary = target.with_suffix(".tmp")
        temporary.write_text("new\n")
        os.replace(temporary, target)
    elif operation == "delete":
        target.unlink()
    elif operation == "touch":
        os.utime(target, ns=(0, target.stat().st_mtime_ns + 1))
    else:
        target.unlink()
        target.write_text("0\n")
    assert watcher.check() == [str(target)]


def test_unwatched_neighbours_are_ignored(tree):
    watcher = inotify(tree)
    write(tree[0].parent / "editor.swp", "x")
    assert watcher.check() == []


def test_a_missing_explicit_file_that_appears(tmp_path):
    later = tmp_path / "local.ini"
    watcher = inotify([later])
    later.write_text("[x]\n")
    assert watcher.check() == [str(later)]


def test_a_module_imported_later_is_watched_too(modules, tmp_path):
    watcher = Watcher(backend="inotify")
    path = modules("evented_view", "VERSION = 1\n")
    importlib.import_module("evented_view")
    assert watcher.check() == []
    write(path, "VERSION = 22\n")
    assert watcher.check() == [str(path)]


def test_a_replaced_directory_is_watched_again(tree):
    watcher = inotify(tree)
    directory = tree[0].parent
    shutil.rmtree(directory)
    assert sorted(watcher.check()) == sorted(map(str, tree))  # a full pass
    directory.mkdir()
    for number, path in enumerate(tree):
        write(path, f"{number}\n")
    assert sorted(watcher.check()) == sorted(map(str, tree))  # still differ from the baseline


def test_changes_without_events_are_found_by_the_periodic_full_pass(tree, monkeypatch):
    """A bind mount changed from another host delivers no events."""
    watcher = inotify(tree, full_period=3600)
    real_read = os.read

    def no_events(descriptor, size):
        if descriptor == watcher._backend._fd:
            raise BlockingIOError
        return real_read(descriptor, size)

    monkeypatch.setattr(os, "read", no_events)
    write(tree[2], "changed elsewhere\n")
    assert watcher.check() == []  # no events, no full pass due yet
    watcher._backend.full_period = 0
    assert watcher.check() == [str(tree[2])]


@pytest.mark.parametrize(
    ("function", "number", "warning"),
    [
        ("inotify_init", errno.ENOSYS, "inotify is not available"),
        ("inotify_add_watch", errno.ENOSPC, "watch limit"),
    ],
    ids=["no-inotify", "watch-limit"],
)
def test_falls_back_to_stat_with_one_warning(tree, monkeypatch, caplog, function, number, warning):
    def fail(*args):
        raise OSError(number, os.strerror(number))

    monkeypatch.setattr(inotify_backend, function, fail)
    watcher = Watcher(extra_files=[str(p) for p in tree], backend="inotify")
    assert watcher.backend == "stat"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warning in warnings[0]
    write(tree[0], "changed\n")
    assert watcher.check() == [str(tree[0])]


def test_the_middleware_option(tree, recorder):
    middleware = ReloadMiddleware(
        lambda e, s: [], interval=0, hook=recorder, backend="inotify",
        extra_files=[str(p) for p in tree],
    )  # fmt: skip
    assert middleware._check.watcher.backend == "inotify"
    with pytest.raises(ValueError, match=r"'backend'.*'stat', 'inotify'.*'fanotify'"):
        ReloadMiddleware(lambda e, s: [], backend="fanotify")


def test_the_c_calls_themselves(tmp_path):
    descriptor = inotify_backend.inotify_init()
    try:
        watch = inotify_backend.inotify_add_watch(descriptor, str(tmp_path), inotify_backend.MASK)
        (tmp_path / "new.py").write_text("X = 1\n")
        data = os.read(descriptor, 4096)  # non-blocking, and the event is queued already
        number, mask, _, length = inotify_backend.HEADER.unpack_from(data)
        assert number == watch and mask & inotify_backend.IN_CREATE
        name = data[inotify_backend.HEADER.size : inotify_backend.HEADER.size + length]
        assert name.rstrip(b"\0") == b"new.py"
        with pytest.raises(FileNotFoundError, match="gone"):
            inotify_backend.inotify_add_watch(descriptor, str(tmp_path / "gone"), 0x2)
        with pytest.raises(BlockingIOError):
            os.read(descriptor, 4096)
    finally:
        os.close(descriptor)


def test_no_inotify_elsewhere_than_linux(monkeypatch):
    monkeypatch.setattr(inotify_backend.sys, "platform", "darwin")
    with pytest.raises(OSError, match="no inotify on darwin") as info:
        inotify_backend.inotify_init()
    assert info.value.errno == errno.ENOSYS


def in_a_child(work) -> str:
    """What ``work()`` returns (a string), run in a forked child of this process."""
    read, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.write(write_end, work().encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read) as stream:
        answer = stream.read()
    os.waitpid(pid, 0)
    return answer


def test_forked_workers_each_see_an_edit(tree):
    # uWSGI without lazy-apps builds the middleware in the master and forks the workers:
    # one queue read by every worker, each event taken by one of them. Each worker opens
    # its own at its first check.
    watcher = inotify(tree)
    assert watcher.check() == []
    before = in_a_child(lambda: repr(watcher.check()))  # a worker's first check: a full pass
    write(tree[2], "changed\n")
    seen = in_a_child(lambda: repr([watcher.check(), watcher.check(), watcher.check()]))
    assert (before, seen) == ("[]", repr([[str(tree[2])]] * 3))
    assert watcher.check() == [str(tree[2])]  # the parent's own events were not taken


def test_a_forked_process_without_inotify_of_its_own_checks_with_stat(tree, monkeypatch, caplog):
    watcher = inotify(tree)

    def work() -> str:
        monkeypatch.setattr(inotify_backend, "inotify_init", no_inotify)
        with caplog.at_level(logging.WARNING, logger="reloadmw"):
            first = watcher.check()
        write(tree[0], "changed\n")
        return repr([first, watcher.check(), "checking with stat instead" in caplog.text])

    assert in_a_child(work) == repr([[], [str(tree[0])], True])


def no_inotify() -> int:
    raise OSError(errno.EMFILE, "Too many open files")
