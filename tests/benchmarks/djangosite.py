"""The example Django project as the live-reload and restart benchmarks use it: a copy of
docs/examples/djangosite, the environment to run it in, an edit of its view, and the idles
that a developer spends between two edits (seeded, the same for every tool of a run)."""

from __future__ import annotations

import os
import random
import re
import shutil
import tempfile
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "djangosite"
#: The mean idle before an edit, in seconds.
IDLE = 1.5


def copy(prefix: str, name: str = "djangosite") -> Path:
    """A copy of the example project in a new temporary directory (remove its parent)."""
    root = Path(tempfile.mkdtemp(prefix=prefix)) / name
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def environment(root: Path) -> dict[str, str]:
    """The environment of a server of the copy at ``root``."""
    return dict(
        os.environ, PYTHONPATH=str(root), PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1"
    )


def save(root: Path, text: str) -> None:
    """Set MESSAGE in mysite/views.py to ``text``; the mtime always moves."""
    views = root / "mysite" / "views.py"
    before = views.stat().st_mtime_ns
    views.write_text(re.sub(r"(?m)^MESSAGE = .*$", lambda _: f"MESSAGE = {text!r}",
                            views.read_text()))  # fmt: skip
    if views.stat().st_mtime_ns <= before:
        os.utime(views, ns=(before + 1_000_000, before + 1_000_000))


def idles(edits: int, jitter: float, seed: int) -> list[float]:
    """IDLE +- jitter/2 before each edit: a save lands anywhere in a reloader's 1 s beat."""
    draw = random.Random(seed)
    return [IDLE + draw.uniform(-jitter / 2, jitter / 2) for _ in range(edits)]
