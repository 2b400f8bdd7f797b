"""Converters: each turns a value from Python, an ini file or the command line into one type.

A converter takes the option's name (for its error message) and the value;
strings are parsed, other values checked. Errors name the option and the
value and say what was expected.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Mapping

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


def asautobool(name: str, value: object) -> bool | None:
    """A boolean, or None (also ``"auto"``, ``""``): the middleware decides where it runs."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "auto")):
        return None
    try:
        return asbool(name, value)
    except ValueError:
        raise ValueError(
            f"reloadmw option {name!r}: expected a boolean (true/false, yes/no, on/off, 1/0) "
            f"or auto, got {value!r}"
        ) from None


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


#: ``interval = auto``: checks take at most ``AUTO_SHARE`` of the time (see reloadmw.check).
AUTO = "auto"


def asinterval_or_auto(name: str, value: object) -> float | str:
    """``"auto"``, or a number of seconds as ``asinterval`` reads it."""
    if isinstance(value, str) and value.strip().lower() == AUTO:
        return AUTO
    try:
        return asinterval(name, value)
    except (TypeError, ValueError):
        raise ValueError(
            f"reloadmw option {name!r}: expected auto or a finite number of seconds >= 0, "
            f"got {value!r}"
        ) from None


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


def ashook(name: str, value: object) -> object:
    """Keep a hook as given; ``reloadmw.hooks.resolve`` checks it when the app is built."""
    if isinstance(value, str):
        return value.strip()
    return value


def aschoice(choices: tuple[str, ...]) -> Callable[[str, object], str]:
    """A converter for an option that takes one of ``choices``, in any case."""

    def convert(name: str, value: object) -> str:
        if isinstance(value, str) and value.strip().lower() in choices:
            return value.strip().lower()
        raise ValueError(
            f"reloadmw option {name!r}: expected one of {', '.join(map(repr, choices))}, "
            f"got {value!r}"
        )

    return convert


def asport(name: str, value: object) -> int:
    """A TCP port number, 0 to 65535."""
    try:
        number = int(str(value).strip()) if not isinstance(value, bool) else -1
    except ValueError:
        number = -1
    if not 0 <= number <= 65535:
        raise ValueError(
            f"reloadmw option {name!r}: expected a port number from 0 to 65535, got {value!r}"
        )
    return number


def astext(name: str, value: object) -> str:
    """A non-empty string."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise ValueError(f"reloadmw option {name!r}: expected a non-empty string, got {value!r}")


def disabled_by_environment(environ: Mapping[str, str] | None = None) -> bool:
    """True when ``RELOADMW_DISABLE`` is set to anything non-empty other than ``0``."""
    value = (os.environ if environ is None else environ).get(DISABLE_VARIABLE, "")
    return value.strip() not in ("", "0")


def absolute(paths: Iterable[str], base: str) -> tuple[str, ...]:
    """Make relative paths and patterns absolute against ``base``; keep ``~`` expansion."""
    return tuple(os.path.normpath(os.path.join(base, os.path.expanduser(p))) for p in paths)
