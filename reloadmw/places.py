"""Paths as people read them: relative to the current directory, grouped, summed up."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

#: At start-up, how many directories the summary names before "and N more".
SHOWN_DIRECTORIES = 3


def shown(path: str, cwd: str | None = None) -> str:
    """``path`` relative to ``cwd`` (the current directory) when it is under it."""
    cwd = os.path.join(cwd or os.getcwd(), "")
    if os.path.join(path, "") == cwd:
        return ""
    return path[len(cwd) :] if path.startswith(cwd) else path


def by_directory(paths: Iterable[str], cwd: str | None = None) -> dict[str, list[str]]:
    """The paths grouped by their directory (as ``shown``), both sorted."""
    groups: dict[str, list[str]] = {}
    for path in paths:
        directory, name = os.path.split(path)
        groups.setdefault(os.path.join(shown(directory, cwd) or os.curdir, ""), []).append(name)
    return {directory: sorted(groups[directory]) for directory in sorted(groups)}


def places(paths: Sequence[str], cwd: str | None = None) -> str:
    """``"1 file watched in docs/examples"``, naming the first few directories."""
    count = f"{plural(len(paths), 'file')} watched"
    groups = by_directory(paths, cwd)
    if not groups:
        return count
    biggest = sorted(groups, key=lambda directory: -len(groups[directory]))
    named = [f"{d} ({len(groups[d])})" if len(groups) > 1 else d for d in biggest]
    more = len(named) - SHOWN_DIRECTORIES
    text = ", ".join(named[:SHOWN_DIRECTORIES])
    return f"{count} in {text}" + (f" and {more} more directories" if more > 0 else "")


def plural(count: int, noun: str) -> str:
    """``"1 file"``, ``"2 files"``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
