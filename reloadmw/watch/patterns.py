"""Glob patterns as regular expressions over whole paths: ``exclude`` and its matching.

``fnmatch`` lets ``*`` cross directories; here ``*`` and ``?`` stay within one
path segment and ``**`` crosses them, as in ``glob`` with ``recursive=True``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

_SEPARATORS = "/\\" if os.sep == "\\" else "/"
_NOT_SEP = f"[^{re.escape(_SEPARATORS)}]"
_SEP = f"[{re.escape(_SEPARATORS)}]"


def glob_regex(pattern: str) -> str:
    """Translate a glob to a regular expression for whole paths.

    ``*`` and ``?`` stay within one path segment, ``**`` crosses segments and
    ``**/`` also matches no directory at all; ``[...]`` is a character class.
    """
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if i < n and pattern[i] in _SEPARATORS:
                out.append(f"(?:.*{_SEP})?")
                i += 1
            else:
                out.append(".*")
            continue
        if char == "*":
            out.append(f"{_NOT_SEP}*")
        elif char == "?":
            out.append(_NOT_SEP)
        elif char == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end]
            negate = body[:1] in ("!", "^")
            body = re.escape(body[1:] if negate else body).replace(r"\-", "-")
            out.append(f"[{'^' if negate else ''}{body}]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def compile_excludes(patterns: Iterable[str]) -> re.Pattern[str] | None:
    """One regular expression for all exclusion patterns; relative ones match anywhere."""
    parts = []
    for pattern in patterns:
        if not os.path.isabs(pattern):
            pattern = "**/" + pattern
        parts.append(f"(?:{glob_regex(pattern)})")
    return re.compile("|".join(parts), re.DOTALL) if parts else None
