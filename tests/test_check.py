"""The Check: named states, when a check is due, and what each outcome leads to."""

from __future__ import annotations

import math

import pytest

from reloadmw.check import Check, State
from tests.support import write


class StubWatcher:
    """A watcher that answers what the test says."""

    def __init__(self) -> None:
        self.answer: list[str] = []
        self.checks = 0

    def check(self) -> list[str]:
        self.checks += 1
        return list(self.answer)

    def adopt_modules(self) -> int:
        return 0

    def __len__(self) -> int:
        return 1


@pytest.fixture
def watcher():
    return StubWatcher()


def make(watcher, clock, *, interval=1.0, syntax_check=True):
    seen = []
    check = Check(watcher, interval, syntax_check, on_due=seen.append)  # type: ignore[arg-type]
    return check, seen


def test_a_new_check_lets_the_first_request_take_the_slow_path(watcher, clock):
    check, seen = make(watcher, clock)
    assert check.state is State.WATCHING
    assert check.next_due == -math.inf == seen[-1]
    check.settle()
    assert check.next_due == clock() + 1.0


def test_off_without_a_watcher(clock):
    check = Check(None, 1.0, True)
    assert check.state is State.OFF and check.next_due == math.inf
    assert check.run() == []
    check.finish()
    assert check.state is State.OFF


def test_due_once_per_interval_and_claimed_by_one_request(watcher, clock):
    check, seen = make(watcher, clock)
    assert not check.due()
    clock.advance(1.0)
    assert check.due()
    check.claim()
    assert seen[-1] == clock() + 1.0  # other requests take the fast path meanwhile
    assert check.run() == []
    assert watcher.checks == 1
    assert check.run() == []  # not due again yet
    assert watcher.checks == 1


def test_a_change_finishes_checking(watcher, clock):
    check, seen = make(watcher, clock)
    clock.advance(1.0)
    watcher.answer = ["/srv/app.py"]
    assert check.run() == ["/srv/app.py"]
    assert check.state is State.FINISHED and seen[-1] == math.inf
    clock.advance(5)
    assert check.run() == []


def test_a_source_that_does_not_compile_is_broken_until_it_does(watcher, clock, tmp_path):
    broken = write(tmp_path / "views.py", "def view(:\n")
    check, seen = make(watcher, clock)
    watcher.answer = [str(broken)]
    clock.advance(1.0)
    assert check.run() == []
    assert check.state is State.BROKEN and seen[-1] == -math.inf
    assert [p.path for p in check.problems] == [str(broken)]
    write(broken, "def view():\n    pass\n")
    clock.advance(1.0)
    assert check.run() == [str(broken)]
    assert check.state is State.FINISHED and check.problems == []


def test_without_the_syntax_check_a_broken_source_restarts(watcher, clock, tmp_path):
    broken = write(tmp_path / "views.py", "def view(:\n")
    check, _ = make(watcher, clock, syntax_check=False)
    watcher.answer = [str(broken)]
    clock.advance(1.0)
    assert check.run() == [str(broken)]


def test_a_failing_watcher_is_logged_and_changes_nothing(watcher, clock, caplog):
    def fail():
        raise OSError("disk gone")

    watcher.check = fail
    check, _ = make(watcher, clock)
    clock.advance(1.0)
    assert check.run() == []
    assert check.state is State.WATCHING
    assert "the check for changes failed" in caplog.text


def test_finish_stops_every_later_check(watcher, clock):
    check, seen = make(watcher, clock)
    check.finish()
    clock.advance(10)
    assert (check.state, check.run(), seen[-1]) == (State.FINISHED, [], math.inf)
