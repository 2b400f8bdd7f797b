"""Whether changed Python sources compile: a broken edit must not restart the process.

Restarting into a module with a syntax error would leave a server that cannot
import the application; the old process keeps running and explains instead.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """A changed source file that does not compile."""

    path: str
    line: int | None
    message: str
    text: str  # the offending line, or ""

    def __str__(self) -> str:
        where = f"{self.path}, line {self.line}" if self.line else self.path
        return f"{where}: {self.message}" + (f"\n    {self.text.strip()}" if self.text else "")


def problem(path: str) -> Problem | None:
    """The syntax error in the Python source ``path``, or None (also when it is unreadable)."""
    try:
        with open(path, "rb") as stream:
            source = stream.read()
    except OSError:
        return None  # gone or unreadable: the change itself is what counts
    try:
        with warnings.catch_warnings():
            # A SyntaxWarning (an invalid escape, say) is not a broken file, and
            # must not become one where warnings are errors.
            warnings.simplefilter("ignore")
            compile(source, path, "exec", dont_inherit=True)
    except SyntaxError as error:  # IndentationError and TabError included
        return Problem(path, error.lineno, error.msg, error.text or "")
    except ValueError as error:  # NUL bytes in the source
        return Problem(path, None, str(error), "")
    return None


def problems(paths: Iterable[str]) -> list[Problem]:
    """The syntax errors among the ``.py`` files of ``paths``."""
    found = (problem(path) for path in paths if path.endswith(".py"))
    return [p for p in found if p is not None]
