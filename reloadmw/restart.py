"""Around a restart: run it after the response, and announce it.

PEP 3333 has the server call the response iterable's ``close()`` once the
response is sent, which is the earliest moment a restart cannot cut it short.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .places import places
from .watch import forget_bytecode

log = logging.getLogger("reloadmw")

#: How many changed paths a notice names before it counts the rest.
PATHS_SHOWN = 5


class AfterClose:
    """An iterable's items, then ``after()`` once its own ``close()`` has run."""

    __slots__ = ("_after", "_closed", "_iterable")

    def __init__(self, iterable: Iterable[bytes], after: Callable[[], None]) -> None:
        self._iterable = iterable
        self._after = after
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._iterable)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            close = getattr(self._iterable, "close", None)
            if close is not None:
                close()
        finally:
            self._after()


def how_often(interval: float | str) -> str:
    """The ``interval`` option in words: ``"on every request"``, say."""
    if interval == "auto":
        return "on requests, as often as keeps the checks under 1% of the time"
    return f"at most once per {interval:g}s" if interval else "on every request"


def watching(pid: int, paths: list[str], interval: float | str, how: str) -> None:
    """Say at INFO, once, what this process watches, how, and how often."""
    log.info(
        "pid %d restarts when its code changes (%s, %s, checked %s); this is meant for "
        "development, not production",
        pid, places(paths), how, how_often(interval),
    )  # fmt: skip


def announce(changed: list[str], via: str, stream: Any) -> None:
    """Log the restart at INFO, and write it once to the server's error stream."""
    shown = ", ".join(changed[:PATHS_SHOWN])
    if len(changed) > PATHS_SHOWN:
        shown += f" and {len(changed) - PATHS_SHOWN} more"
    message = f"change detected in {shown}; restarting pid {os.getpid()} via {via}"
    log.info("%s", message)
    if stream is not None and not _logged_to(stream):  # under mod_wsgi, Apache's error log
        try:
            stream.write(f"reloadmw: {message}\n")
            stream.flush()
        except Exception:
            log.debug("could not write to the server's error stream", exc_info=True)


def _logged_to(stream: Any) -> bool:
    """Whether reloadmw's INFO lines already reach ``stream`` through the logging
    configuration (an ini file's console handler, say): then the line is written once."""
    if not log.isEnabledFor(logging.INFO):
        return False
    errors = (sys.stderr, sys.__stderr__)
    logger: logging.Logger | None = log
    while logger is not None:
        for handler in logger.handlers:
            if not isinstance(handler, logging.StreamHandler) or handler.level > logging.INFO:
                continue
            if handler.stream is stream or (handler.stream in errors and stream in errors):
                return True
        logger = logger.parent if logger.propagate else None
    return False


def drop_bytecode(changed: list[str]) -> None:
    """Remove the changed sources' cached bytecode, so that the new process compiles them."""
    for path, error in forget_bytecode(changed):
        log.warning(
            "cannot remove the cached bytecode of %s (%s): an edit within the same second "
            "that kept the size may leave the new process on the old code",
            path,
            error,
        )
