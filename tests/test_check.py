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

    def take_templates(self, changed: list[str]) -> bool:
        return False

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
    assert check.state is State.NEW
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


def test_a_change_ends_the_checks_while_the_restart_comes(watcher, clock):
    check, seen = make(watcher, clock)
    clock.advance(1.0)
    watcher.answer = ["/srv/app.py"]
    assert check.run() == ["/srv/app.py"]
    assert check.state is State.RESTARTING and seen[-1] == math.inf
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
    assert check.state is State.RESTARTING and check.problems == []


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
    assert check.state is State.NEW  # (none has run to its end)
    assert "the check for changes failed" in caplog.text


def test_finish_stops_every_later_check(watcher, clock):
    check, seen = make(watcher, clock)
    check.finish()
    clock.advance(10)
    assert (check.state, check.run(), seen[-1]) == (State.FINISHED, [], math.inf)


class CostlyWatcher(StubWatcher):
    """A watcher whose check costs ``cost`` seconds on the test's clock."""

    def __init__(self, clock, cost: float) -> None:
        super().__init__()
        self.clock, self.cost = clock, cost

    def check(self) -> list[str]:
        self.clock.advance(self.cost)
        return super().check()


@pytest.mark.parametrize(
    ("cost", "interval"),
    [(5e-6, 5e-4), (2e-4, 0.02), (3e-3, 0.3), (0.05, 1.0)],  # inotify, stat x300, NFS, worst
)
def test_auto_keeps_the_checks_under_one_percent_of_the_time(clock, cost, interval):
    # Before, a fixed second: a request within it of the last check was not checked,
    # and the first page after a save could be stale under gunicorn, uWSGI and mod_wsgi.
    watcher = CostlyWatcher(clock, cost)
    check, seen = make(watcher, clock, interval="auto")
    assert check.interval == 0.0  # nothing measured yet: the first request checks
    for _ in range(20):
        check.run()
        clock.advance(check.interval)
    assert check.interval == pytest.approx(interval)
    assert seen[-1] == pytest.approx(check._last + interval)


def test_auto_follows_the_median_cost_not_a_slow_full_pass(clock):
    watcher = CostlyWatcher(clock, 1e-5)
    check, _ = make(watcher, clock, interval="auto")
    for number in range(30):
        watcher.cost = 0.004 if number % 10 == 9 else 1e-5  # inotify's full pass, now and then
        check.run()
        clock.advance(check.interval)
    assert check.interval == pytest.approx(1e-3)


def test_auto_is_not_set_by_a_new_worker_s_first_full_pass(clock):
    # A worker forked from uWSGI's master opens its own inotify queue and stats every file
    # at its first check: taken as the cost of every check, its second request was the
    # last one checked for a while, and a page 0.15 s after it was stale (1 in 3).
    watcher = CostlyWatcher(clock, 0.004)
    check, _ = make(watcher, clock, interval="auto")
    check.run()
    clock.advance(2.0)  # the developer edits
    watcher.cost = 2e-5  # the queue's read
    check.run()
    assert check.interval == pytest.approx(2e-3)


def test_a_set_interval_stays_as_set(clock):
    watcher = CostlyWatcher(clock, 0.01)
    check, _ = make(watcher, clock, interval=0.5)
    check.run()
    assert check.interval == 0.5


def test_the_changes_are_named_before_a_request_sees_the_state_move_on(watcher, clock):
    """Among sibling workers the ask names the edit that the old workers send requests
    to: it is recorded before any request of this process can see HANDED_OVER."""
    check, _ = make(watcher, clock)
    states = []
    check.found = lambda changed: states.append((check.state, changed)) or True
    clock.advance(1.0)
    watcher.answer = ["a.py"]
    assert check.run(then=State.HANDED_OVER) == ["a.py"]
    assert states == [(State.NEW, ["a.py"])]
    assert check.state is State.HANDED_OVER


def test_a_handed_over_process_names_a_later_edit_where_it_asks_for_it(watcher, clock):
    check, _ = make(watcher, clock)
    asked_for = {"a.py"}  # what the siblings asked for already
    found = []

    def ask(changed):
        found.append(changed)
        return not set(changed) <= asked_for

    check.found = ask
    assert check.follow() == []  # not handed over: nothing to follow
    clock.advance(1.0)
    watcher.answer = ["a.py"]
    check.run(then=State.HANDED_OVER)
    assert check.follow() == []  # the same edit: asked for already
    watcher.answer = ["a.py", "b.py"]
    assert check.follow() == ["a.py", "b.py"]  # a later one: this process asks
    assert check.state is State.HANDED_OVER
    assert found == [["a.py"], ["a.py"], ["a.py", "b.py"]]
