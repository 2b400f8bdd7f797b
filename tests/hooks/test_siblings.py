"""One reload per edit among sibling workers: the stamp file that the first one writes."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import pytest

from reloadmw.hooks import siblings

pytestmark = pytest.mark.posix


@pytest.fixture
def server_pid(monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path))
    return 4242


def test_the_first_worker_to_find_a_change_asks_and_the_others_do_not(server_pid, tmp_path):
    written = time.time_ns()
    assert siblings.first_to_ask(server_pid, written) is True
    assert siblings.first_to_ask(server_pid, written) is False  # a sibling found it too
    stamp = siblings.stamp_path(server_pid)
    assert stamp == str(tmp_path / f"reloadmw-{os.getuid()}-{server_pid}.reload")
    assert oct(os.stat(stamp).st_mode & 0o777) == "0o600"


def test_a_change_written_after_the_last_ask_asks_again(server_pid):
    """Whoever finds it: a worker still draining from the last reload asks too."""
    assert siblings.first_to_ask(server_pid, time.time_ns()) is True
    assert siblings.first_to_ask(server_pid, time.time_ns() + 1) is True  # a later edit


def test_a_change_is_as_new_as_its_newest_file(tmp_path):
    older, newer = tmp_path / "a.py", tmp_path / "b.py"
    older.write_text("")
    newer.write_text("")
    os.utime(older, ns=(1, 1_000))
    os.utime(newer, ns=(1, 2_000))
    assert siblings.changed_at([str(older), str(newer)]) == 2_000
    before = time.time_ns()
    assert siblings.changed_at([str(tmp_path / "deleted.py")]) >= before  # now


def test_the_stamp_is_shared_in_memory(server_pid):
    asked = siblings.asked(server_pid)
    assert asked.value == 0
    assert siblings.first_to_ask(server_pid, time.time_ns()) is True
    assert asked.value > 0  # a sibling's ask, seen without a system call
    assert siblings.asked(server_pid).value == asked.value


def test_each_server_has_its_own_stamp(server_pid):
    built = time.time_ns()
    assert siblings.first_to_ask(server_pid, built) is True
    assert siblings.first_to_ask(server_pid + 1, built) is True


def test_any_trouble_with_the_stamp_means_ask(monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path / "missing"))
    assert siblings.first_to_ask(1, time.time_ns()) is True
    stamp = tmp_path / "garbage"
    monkeypatch.setattr(siblings, "stamp_path", lambda pid: str(stamp))
    stamp.write_text("not a number")
    assert siblings.first_to_ask(1, time.time_ns()) is True


def test_a_stamp_written_while_others_read_their_map_never_gets_shorter(server_pid, tmp_path):
    # Every request of every worker reads the mapped stamp; a write that cut the file to
    # nothing before writing it again killed readers with SIGBUS under load.
    reading = (
        "import tempfile, time\n"
        f"tempfile.gettempdir = lambda: {str(tmp_path)!r}\n"
        "from reloadmw.hooks import siblings\n"
        f"stamp = siblings.asked({server_pid})\n"
        "print('mapped', flush=True)\n"
        "end = time.monotonic() + 2\n"
        "while time.monotonic() < end:\n"
        "    stamp.value\n"
    )
    with subprocess.Popen([sys.executable, "-c", reading], stdout=subprocess.PIPE,
                          text=True) as reader:  # fmt: skip
        assert reader.stdout is not None and reader.stdout.readline() == "mapped\n"
        for edit in range(1, 20_000):
            siblings.first_to_ask(server_pid, edit)
        assert reader.wait(10) == 0  # (-7: killed by SIGBUS)


def test_a_servers_first_file_removes_those_of_servers_that_are_gone(monkeypatch, tmp_path):
    """No worker sees its server end, so the files stay; the next server's first removes them."""
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path))
    monkeypatch.setattr(siblings, "_swept", False)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead, uid = int(gone.stdout), os.getuid()
    left = [tmp_path / f"reloadmw-{uid}-{dead}.{suffix}" for suffix in ("reload", "preflight")]
    for path in left:
        path.write_bytes(b"12345678")
    fresh = tmp_path / f"reloadmw-{uid}-{dead}.fresh"
    fresh.mkdir(mode=0o700)
    (fresh / "lock").write_bytes(b"")
    kept = [
        tmp_path / f"reloadmw-{uid}-{os.getppid()}.reload",  # a server still running
        tmp_path / f"reloadmw-{uid + 1}-{dead}.reload",  # another user's
        tmp_path / f"reloadmw-{uid}-{dead}.txt",  # not one of ours
    ]
    for path in kept:
        path.write_bytes(b"")
    assert siblings.first_to_ask(os.getpid(), time.time_ns()) is True
    assert sorted(os.listdir(tmp_path)) == sorted(
        [path.name for path in kept] + [f"reloadmw-{uid}-{os.getpid()}.reload"]
    )
    for path in left:  # once per process: the next server file created removes nothing
        path.write_bytes(b"")
    siblings.first_to_ask(os.getpid() + 1, time.time_ns())
    assert all(path.exists() for path in left)
