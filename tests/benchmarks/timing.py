"""Small timing helpers: medians and spreads of repeated timeit runs."""

from __future__ import annotations

import statistics
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Timing:
    name: str
    median: float  # seconds per call
    low: float
    high: float

    def row(self, baseline: Timing | None = None, unit: str = "ns") -> str:
        scale = {"ns": 1e9, "us": 1e6, "ms": 1e3}[unit]
        ratio = f"{self.median / baseline.median:6.2f}x" if baseline else "      "
        return (
            f"{self.name:<44} {self.median * scale:10.2f} {unit}"
            f"  [{self.low * scale:.2f} .. {self.high * scale:.2f}]  {ratio}"
        )


def measure(name: str, function: Callable[[], object], number: int, repeat: int) -> Timing:
    """Seconds per call of ``function``: median, min and max over ``repeat`` runs."""
    runs = [t / number for t in timeit.repeat(function, number=number, repeat=repeat)]
    return Timing(name, statistics.median(runs), min(runs), max(runs))


def interleaved(
    contenders: dict[str, Callable[[], object]], number: int, rounds: int
) -> dict[str, Timing]:
    """Time each contender in turn, round after round, so drift hits all alike."""
    runs: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, function in contenders.items():
            runs[name].append(timeit.timeit(function, number=number) / number)
    return {
        name: Timing(name, statistics.median(values), min(values), max(values))
        for name, values in runs.items()
    }


def seconds(value: float | None) -> str:
    """A duration for a report's table: "0.53 s", or "-" where there is none."""
    return f"{value:.2f} s" if value is not None else "-"


def server_tails(rows: list[dict[str, Any]], name: Callable[[dict[str, Any]], str]) -> list[str]:
    """The last lines of each row's server log (where the row kept some), then the end."""
    lines: list[str] = []
    for row in rows:
        if row["log"]:
            lines.append(f"{name(row)}: the server's last lines")
            lines += [f"  | {line}" for line in row["log"]]
    return lines
