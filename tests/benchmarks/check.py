"""One check over N watched modules, beside the floor: a bare ``os.stat`` loop.

The modules are a generated package tree, imported for real, so the check sees
what it sees in an application: sys.modules scanning included.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
import tempfile

from reloadmw.watch import Watcher
from tests.benchmarks.timing import Timing, interleaved


def make_tree(root: str, count: int, per_package: int = 50) -> list[str]:
    """Write ``count`` modules in packages of ``per_package``; return their names."""
    names = []
    top = f"benchtree{count}"
    os.makedirs(os.path.join(root, top))
    open(os.path.join(root, top, "__init__.py"), "w").close()
    for number in range(count - 1):
        package = f"p{number // per_package}"
        directory = os.path.join(root, top, package)
        if not os.path.isdir(directory):
            os.makedirs(directory)
            open(os.path.join(directory, "__init__.py"), "w").close()
            names.append(f"{top}.{package}")
        with open(os.path.join(directory, f"m{number}.py"), "w") as stream:
            stream.write(f"VALUE = {number}\n")
        names.append(f"{top}.{package}.m{number}")
    return [top, *names][:count]


def run(count: int, rounds: int = 15) -> dict[str, Timing]:
    root = tempfile.mkdtemp(prefix="reloadmw-bench-")
    sys.path.insert(0, root)
    try:
        for name in make_tree(root, count):
            importlib.import_module(name)
        watcher = Watcher()
        tree = os.path.join(root, f"benchtree{count}")
        paths = [p for p in watcher.paths if p.startswith(tree)]
        others = len(watcher) - len(paths)
        assert len(paths) == count, (len(paths), count)
        all_paths = watcher.paths
        stat = os.stat

        def floor() -> None:
            for path in all_paths:
                stat(path)

        timings = interleaved(
            {
                f"floor: os.stat loop over {len(all_paths)} files": floor,
                f"reloadmw check, {count} modules (+{others} others)": watcher.check,
            },
            number=5,
            rounds=rounds,
        )
        assert watcher.check() == []
        return timings
    finally:
        sys.path.remove(root)
        for name in [n for n in sys.modules if n.startswith(f"benchtree{count}")]:
            del sys.modules[name]
        shutil.rmtree(root, ignore_errors=True)


def report(count: int, timings: dict[str, Timing]) -> list[str]:
    floor, check = timings.values()
    return [
        f"One check, no change, {count} modules: median [min .. max], ratio to the floor",
        floor.row(floor, unit="ms"),
        check.row(floor, unit="ms"),
    ]
