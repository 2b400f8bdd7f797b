"""The benchmarks still run (tiny sizes, one round); their figures are not asserted here."""

from __future__ import annotations

import pytest

from tests.benchmarks import check, django_app, fastpath
from tests.benchmarks.__main__ import in_fresh_interpreter

pytestmark = [pytest.mark.linux, pytest.mark.bench]


def test_fast_path_benchmark_runs():
    timings = fastpath.run(number=50, rounds=1)
    assert len(fastpath.report(timings)) == 7


def test_check_benchmark_runs_every_contender():
    result = in_fresh_interpreter("tests.benchmarks.check", 60, 1)
    lines = check.report(result)
    assert "60 generated modules" in lines[0]
    names = [row["name"] for row in result["rows"]]
    assert names[:3] == ["floor: os.stat loop", "reloadmw (stat)", "reloadmw (inotify)"]
    assert len(names) == 8


def test_django_benchmark_runs():
    result = in_fresh_interpreter("tests.benchmarks.django_app", 1)
    assert result["reloadmw_files"] > 0
    assert "cheaper" in django_app.report(result)[-1]


@pytest.mark.server
def test_staleness_benchmark_runs_one_trial():
    from tests.benchmarks import staleness

    result = staleness.run(1, (0.3,), only="reloadmw serve (wsgiref)")
    row, busy = result["rows"]
    assert row["trials"] == 1 and row["seconds"] is not None and not row["busy"]
    assert busy["busy"] and busy["fresh"] == 1  # a request just before the save hides nothing
    lines = staleness.report(result)
    assert "reloadmw serve (wsgiref)" in lines[2] and "0.1 busy" in lines[3]
