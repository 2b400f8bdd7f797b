"""What ``import reloadmw`` costs: the time, and the modules it loads.

Each run is a fresh interpreter with ``-X importtime``; the figure is the median of
the cumulative time that Python reports for the ``reloadmw`` package, beside the
whole interpreter's start (``python -c pass``), measured in the same run. The fresh
interpreter that answers after an edit, and the import pre-flight, pay it each time.

``python -m tests.benchmarks.importing [--runs N]``
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def imported_in(code: str = "import reloadmw") -> float:
    """Seconds that ``-X importtime`` gives the reloadmw package in one fresh interpreter."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", code],
                            capture_output=True, text=True, check=True)  # fmt: skip
    for line in result.stderr.splitlines():
        fields = [field.strip() for field in line.split("|")]
        if len(fields) == 3 and fields[2] == "reloadmw":
            return int(fields[1]) / 1e6
    raise RuntimeError(f"no reloadmw line in:\n{result.stderr[-2000:]}")


def started_in() -> float:
    """Seconds for a fresh interpreter to start and end, doing nothing."""
    began = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - began


def modules() -> list[str]:
    code = (
        "import sys, reloadmw; print(*sorted(m for m in sys.modules if m.startswith('reloadmw')))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout  # fmt: skip
    return output.split()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.importing")
    parser.add_argument("--runs", type=int, default=21)
    runs = parser.parse_args(argv).runs
    imports = statistics.median(imported_in() for _ in range(runs))
    starts = statistics.median(started_in() for _ in range(runs))
    loaded = modules()
    print(f"import reloadmw: {imports * 1e3:.1f} ms (median of {runs}), "
          f"{imports / starts:.2f}x an interpreter's start ({starts * 1e3:.1f} ms); "
          f"{len(loaded)} of its modules: {' '.join(loaded)}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
