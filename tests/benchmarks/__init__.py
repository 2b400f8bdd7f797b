"""Benchmarks: ratios against baselines measured in the same run, never gating CI.

Run them all with ``python -m tests.benchmarks`` (or ``tox -e bench``).
"""
