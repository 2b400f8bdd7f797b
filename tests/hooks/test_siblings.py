"""One reload per edit among sibling workers: the stamp file that the first one writes."""

from __future__ import annotations

import os
import tempfile
import time

import pytest

from reloadmw.hooks import siblings

pytestmark = pytest.mark.posix


@pytest.fixture
def server_pid(monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path))
    return 4242


def test_the_first_worker_asks_and_the_others_built_before_do_not(server_pid, tmp_path):
    built = time.time_ns()
    assert siblings.first_to_ask(server_pid, built) is True
    assert siblings.first_to_ask(server_pid, built) is False  # a sibling with the same code
    stamp = siblings.stamp_path(server_pid)
    assert stamp == str(tmp_path / f"reloadmw-{os.getuid()}-{server_pid}.reload")
    assert oct(os.stat(stamp).st_mode & 0o777) == "0o600"


def test_a_worker_built_after_the_last_ask_asks_again(server_pid):
    assert siblings.first_to_ask(server_pid, time.time_ns()) is True
    assert siblings.first_to_ask(server_pid, time.time_ns() + 1) is True  # a later edit


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
