"""Files for the tests: modules on disk, edits that always move the mtime, C libraries."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from pathlib import Path

from .processes import require_executable


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def write(path: Path, text: str, *, whole: bool = False) -> Path:
    """Write ``text`` (dedented) and move the mtime past any earlier write.

    Two writes within one tick of the kernel's file clock can get the same
    mtime; tests that mean "an edit" must not depend on that. With ``whole``,
    the text goes to a new file that then replaces ``path`` (an editor's "safe
    write"), so no reader ever sees it empty or half written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    old = path.stat().st_mtime_ns if path.exists() else None
    target = path.with_name(f".{path.name}.new") if whole else path
    target.write_text(textwrap.dedent(text))
    target.chmod(0o644)
    if whole:
        os.replace(target, path)
    if old is not None and path.stat().st_mtime_ns <= old:
        os.utime(path, ns=(old + 1_000_000, old + 1_000_000))
    return path


class ModuleMaker:
    """Writes modules and packages into a directory that is on sys.path."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __call__(self, name: str, source: str = "VALUE = 1\n") -> Path:
        parts = name.split(".")
        directory = self.root.joinpath(*parts[:-1])
        for depth in range(1, len(parts)):
            init = self.root.joinpath(*parts[:depth], "__init__.py")
            if not init.exists():
                write(init, "")
        return write(directory / f"{parts[-1]}.py", source)


def build_library(source: str, library: Path, *flags: str) -> Path:
    """Compile the C ``source`` into the shared library ``library`` with gcc."""
    gcc = require_executable("gcc")
    c_file = library.with_name(library.name + ".c")
    c_file.write_text(source)
    command = [gcc, "-shared", "-fPIC", *flags, "-o", str(library), str(c_file)]
    subprocess.run(command, check=True, timeout=120)
    return library
