"""Run the benchmarks, print their tables, and write them for the docs.

``python -m tests.benchmarks`` (or ``tox -e bench``) runs everything and writes
docs/benchmarks/results.txt (every table), the tables that pages show on their own
(idle.txt, live-reload.txt, restart.txt, realsites.txt, assets.txt, staleness.txt, each
beginning with the line that says when and on what machine), check-cost.png and
staleness.png;
``--quick`` (or RELOADMW_BENCH_QUICK=1) runs small sizes and short spells, to see
that it all works.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

from tests.benchmarks import (
    assets,
    check,
    django_app,
    fastpath,
    idle,
    live_reload,
    realsites,
    restart,
    server,
    staleness,
)

OUT = Path(__file__).resolve().parents[2] / "docs" / "benchmarks"


def in_fresh_interpreter(module: str, *arguments: object) -> dict[str, object]:
    output = subprocess.run(
        [sys.executable, "-m", module, *map(str, arguments)],
        check=True,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": ""},
    ).stdout
    return json.loads(output.strip().splitlines()[-1])  # type: ignore[no-any-return]


def chart(results: list[dict[str, object]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 5))
    names = [row["name"] for row in results[0]["rows"]]  # type: ignore[index]
    for name in names:
        sizes = [r["modules"] for r in results]
        costs = [next(row["median"] for row in r["rows"] if row["name"] == name) * 1e3
                 for r in results]  # type: ignore[union-attr]  # fmt: skip
        style = "-o" if name.startswith(("reloadmw", "floor")) else "--."
        axes.plot(sizes, costs, style, label=name)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("generated modules imported")
    axes.set_ylabel("one check, no change (ms, median)")
    axes.set_title("Cost of one change check")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def measured() -> str:
    """When, where and how: the first line of every file the benchmarks write."""
    return (f"Measured on {datetime.date.today()} by .venv/bin/python -m tests.benchmarks: "
            f"Python {platform.python_version()} on {platform.machine()} {platform.system()}, "
            f"{os.cpu_count()} cores")  # fmt: skip


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks")
    parser.add_argument("--quick", action="store_true", help="small sizes, short spells")
    parser.add_argument("--out", type=Path, default=OUT, help="where to write the results")
    options = parser.parse_args(argv)
    # The suite runs the docs' command as printed, at these sizes (tests/test_commands.py).
    quick = options.quick or os.environ.get("RELOADMW_BENCH_QUICK") == "1"
    sizes = [50, 500] if quick else [50, 500, 2000, 5000]
    rounds = 3 if quick else 15
    sections: list[list[str]] = []
    #: The sections that pages show on their own, by the file each is written to.
    apart: dict[str, list[str]] = {}

    def show(lines: list[str], name: str = "") -> None:
        print("\n".join(lines) + "\n", flush=True)
        sections.append(lines)
        if name:
            apart[name] = lines

    show([measured()])
    show(fastpath.report(fastpath.run(number=20_000 if quick else 200_000, rounds=rounds)))
    checks = [in_fresh_interpreter("tests.benchmarks.check", size, rounds) for size in sizes]
    for result in checks:
        show(check.report(result))
    show(django_app.report(in_fresh_interpreter("tests.benchmarks.django_app", rounds)))
    show(server.report(server.run(seconds=1 if quick else 3, rounds=2 if quick else 4)))
    idled = idle.run(seconds=2 if quick else 20, modules=500 if quick else 2000)
    show(idle.report(idled), "idle.txt")
    browser = ["--quick"] if quick else []
    show(live_reload.report(in_fresh_interpreter("tests.benchmarks.live_reload", *browser)),
         "live-reload.txt")  # fmt: skip
    restarted = in_fresh_interpreter("tests.benchmarks.restart", *browser)
    show(restart.report(restarted), "restart.txt")
    show(realsites.report(in_fresh_interpreter("tests.benchmarks.realsites", *browser)),
         "realsites.txt")  # fmt: skip
    show(assets.report(in_fresh_interpreter("tests.benchmarks.assets", *browser)), "assets.txt")
    stale = staleness.run(1 if quick else 3, (0.1, 1.0) if quick else staleness.DELAYS)
    stale_lines = staleness.report(stale)
    print("\n".join(stale_lines) + "\n", flush=True)
    apart["staleness.txt"] = stale_lines
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / "results.txt").write_text("\n\n".join("\n".join(s) for s in sections) + "\n")
    for name, lines in apart.items():  # each with the line that says when and where
        (options.out / name).write_text("\n".join([sections[0][0], "", *lines]) + "\n")
    chart(checks, options.out / "check-cost.png")
    staleness.chart(stale, options.out / "staleness.png")
    restart.chart(restarted, options.out / "restart.png")
    written = ["results.txt", *apart, "check-cost.png", "staleness.png", "restart.png"]
    print(f"written in {options.out}: {', '.join(written)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
