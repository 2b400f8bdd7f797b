"""The benchmarks still run (tiny sizes, one round); their figures are not asserted here."""

from __future__ import annotations

from tests.benchmarks import check, fastpath


def test_fast_path_benchmark_runs():
    timings = fastpath.run(number=50, rounds=1)
    assert len(fastpath.report(timings)) == 7


def test_check_benchmark_runs():
    timings = check.run(60, rounds=1)
    assert "60 modules" in "\n".join(check.report(60, timings))
