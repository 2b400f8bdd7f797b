"""Run the benchmarks and print their tables: ``python -m tests.benchmarks``."""

from __future__ import annotations

import platform
import sys

from tests.benchmarks import check, fastpath


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv] or [500, 2000, 5000]
    print(f"Python {platform.python_version()} on {platform.machine()}, {platform.system()}")
    print()
    print("\n".join(fastpath.report(fastpath.run())))
    for count in sizes:
        print()
        print("\n".join(check.report(count, check.run(count))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
