"""Options: validation for the Python API and string conversion for ini files.

Both entry points share this module, so an option is spelled, checked and
explained the same way whether it comes from ``ReloadMiddleware(...)`` or from
a ``[filter:reload]`` section. As in waitress ``adjustments.py``, every ini
key maps to a converter and an unknown key is an error that lists the valid
ones. Configuration errors are raised when the application is built, never
in the middle of a request.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from typing import Any

TRUTHY = frozenset({"true", "yes", "on", "1"})
FALSY = frozenset({"false", "no", "off", "0"})

#: Set to anything non-empty other than ``0`` to turn every ReloadMiddleware into
#: a pass-through, whatever its ``enabled`` option says.
DISABLE_VARIABLE = "RELOADMW_DISABLE"


def asbool(name: str, value: object) -> bool:
    """Read a boolean option: a bool, or one of true/false/yes/no/on/off/1/0 in any case."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUTHY:
            return True
        if word in FALSY:
            return False
    raise ValueError(
        f"reloadmw option {name!r}: expected a boolean (true/false, yes/no, on/off, 1/0), "
        f"got {value!r}"
    )


def aslist(name: str, value: object) -> tuple[str, ...]:
    """Read a list of strings: a string splits on whitespace and newlines."""
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, (bytes, bytearray)) or not isinstance(value, Iterable):
        raise TypeError(f"reloadmw option {name!r}: expected a list of strings, got {value!r}")
    items = tuple(value)
    for item in items:
        if not isinstance(item, (str, os.PathLike)):
            raise TypeError(
                f"reloadmw option {name!r}: expected a list of strings, got {item!r} in {value!r}"
            )
    return tuple(os.fspath(item) for item in items)


def asinterval(name: str, value: object) -> float:
    """Read a number of seconds: finite and not negative."""
    if isinstance(value, bool):
        number = math.nan  # True is an int, but never a sensible interval
    elif isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = math.nan
    else:
        raise TypeError(f"reloadmw option {name!r}: expected a number of seconds, got {value!r}")
    if not math.isfinite(number) or number < 0:
        raise ValueError(
            f"reloadmw option {name!r}: expected a finite number of seconds >= 0, got {value!r}"
        )
    return number


#: The values of the options that take one of a few words.
CHOICES = {"on_change": ("restart", "retry"), "backend": ("stat", "inotify")}
ON_CHANGE = CHOICES["on_change"]


def aschoice(name: str, value: object) -> str:
    """Read an option that takes one of the words in ``CHOICES[name]``."""
    choices = CHOICES[name]
    if isinstance(value, str) and value.strip().lower() in choices:
        return value.strip().lower()
    raise ValueError(
        f"reloadmw option {name!r}: expected one of {', '.join(map(repr, choices))}, got {value!r}"
    )


def ashook(name: str, value: object) -> object:
    """Keep a hook as given; ``reloadmw.hooks.resolve`` checks it when the app is built."""
    if isinstance(value, str):
        return value.strip()
    return value


#: Every option, in the spelling shared by Python and ini files, with its converter.
OPTIONS: dict[str, Callable[[str, Any], Any]] = {
    "interval": asinterval,
    "hook": ashook,
    "extra_files": aslist,
    "exclude": aslist,
    "include_site_packages": asbool,
    "enabled": asbool,
    "replay": asbool,
    "syntax_check": asbool,
    "on_change": aschoice,
    "backend": aschoice,
}


def parse_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Convert ini settings (strings) to keyword arguments for ReloadMiddleware.

    Raises ValueError for an unknown key, naming it and listing the valid ones,
    and ValueError or TypeError for a bad value, naming the key and the value.
    """
    unknown = sorted(set(settings) - set(OPTIONS))
    if unknown:
        raise ValueError(
            f"unknown reloadmw option{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(map(repr, unknown))}; valid options are: {', '.join(sorted(OPTIONS))}"
        )
    return {key: OPTIONS[key](key, value) for key, value in settings.items()}


def disabled_by_environment(environ: dict[str, str] | None = None) -> bool:
    """True when ``RELOADMW_DISABLE`` is set to anything non-empty other than ``0``."""
    value = (os.environ if environ is None else environ).get(DISABLE_VARIABLE, "")
    return value.strip() not in ("", "0")


def absolute(paths: Iterable[str], base: str) -> tuple[str, ...]:
    """Make relative paths and patterns absolute against ``base``; keep ``~`` expansion."""
    return tuple(os.path.normpath(os.path.join(base, os.path.expanduser(p))) for p in paths)
