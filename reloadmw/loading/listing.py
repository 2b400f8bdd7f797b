"""What ``reloadmw files TARGET`` prints: which files are watched, and why."""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Sequence

from ..middleware import ReloadMiddleware
from ..places import by_directory, plural, shown
from ..restart import how_often
from ..watch import module_file
from .targets import BrokenImport

#: Why a module is not watched (``Watcher.unwatched_because``), as a line says it.
PHRASES = {
    "the standard library": "from the standard library",
    "site-packages": "from site-packages",
    "reloadmw itself": "of reloadmw itself",
    "excluded": "excluded by an exclude pattern",
    "built in": "built in (no file)",
    "imported since": "imported after the last scan (watched at the next check)",
}


def report(target: str, middlewares: Sequence[ReloadMiddleware], user_extra: Sequence[str]) -> str:
    """What ``reloadmw files TARGET`` prints: each middleware's files, then what is not watched."""
    lines: list[str] = []
    if not middlewares:
        return f"{target}: no ReloadMiddleware was built, so no file is watched\n"
    for middleware in middlewares:
        lines += _one(target, middleware, user_extra)
    lines.append(_unwatched(middlewares))
    return "\n".join(lines) + "\n"


def _one(target: str, middleware: ReloadMiddleware, user_extra: Sequence[str]) -> list[str]:
    watcher = middleware._check.watcher
    if watcher is None:
        return [f"{target}: reloadmw is disabled (enabled=False or RELOADMW_DISABLE is set)"]
    options = middleware.options
    checked = how_often(options.interval)
    lines = [f"{target}: {plural(len(watcher), 'file')} watched ({watcher.describe()}, {checked})"]
    reasons = watcher.reasons
    if isinstance(middleware.app, BrokenImport):
        lines.append("  importing it failed: the files named by the failure are watched")
        for path, why in reasons.items():
            if why == "extra file" and path not in user_extra:
                reasons[path] = "named by the failed import"
    for path, why in reasons.items():
        if why.startswith("extra file ("):  # the pattern, as the user would write it
            reasons[path] = f"extra file ({shown(why[len('extra file (') : -1])})"
    for directory, names in by_directory(reasons).items():
        lines.append(directory)
        width = max(len(name) for name in names)
        base = os.path.abspath(directory)
        for name in names:
            why = reasons[os.path.join(base, name)]
            missing = "" if os.path.exists(os.path.join(base, name)) else ", missing for now"
            lines.append(f"    {name:<{width}}  {why}{missing}")
    return lines


def _unwatched(middlewares: Sequence[ReloadMiddleware]) -> str:
    watchers = [m._check.watcher for m in middlewares if m._check.watcher is not None]
    if not watchers:
        return "Not watched: everything (reloadmw is disabled)"
    watcher = watchers[0]
    watched = set().union(*(w.reasons for w in watchers))
    counts: Counter[str] = Counter()
    for module in list(sys.modules.values()):
        path = module_file(module)
        if path is None:
            counts["built in"] += 1
        elif path not in watched:
            counts[watcher.unwatched_because(path) or "imported since"] += 1
    hint = " (--include-site-packages watches these)"
    lines = ["Not watched:"]
    for why, count in counts.most_common():
        lines.append(
            f"    {plural(count, 'module')} {PHRASES[why]}"
            + (hint if why == "site-packages" else "")
        )
    return "\n".join(lines)
