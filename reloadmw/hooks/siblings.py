"""One reload per edit among the sibling workers of one server.

Each worker checks on its own requests, so after one edit every old worker
finds the change in turn. Where the server can replace all its workers at once
(gunicorn's arbiter on SIGHUP, uWSGI's master on ``uwsgi.reload()``), only the
first of them should ask: a later ask would start another round of reloads.

The workers share a small stamp file per server (named after the master's pid)
that holds the wall-clock time of the last ask, under an exclusive ``flock``.
A worker built before that time is one the pending reload replaces, so it does
not ask again.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time

log = logging.getLogger("reloadmw")


def stamp_path(server_pid: int) -> str:
    if sys.platform == "win32":
        raise OSError("no reload stamp on Windows: gunicorn and uWSGI run on UNIX only")
    return os.path.join(tempfile.gettempdir(), f"reloadmw-{os.getuid()}-{server_pid}.reload")


def first_to_ask(server_pid: int, built_ns: int) -> bool:
    """Whether a worker built at ``built_ns`` should ask ``server_pid`` to reload.

    Records the ask when it answers True. Any trouble with the stamp file
    answers True: a second reload round costs less than a missed one.
    """
    if sys.platform == "win32":  # gunicorn and uWSGI run on UNIX only
        return True
    import fcntl

    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(stamp_path(server_pid), flags, 0o600)
    except OSError as error:
        log.debug("cannot open the reload stamp of pid %d: %s", server_pid, error)
        return True
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        text = os.read(descriptor, 64).decode("ascii", "replace").strip()
        asked_ns = int(text) if text.isdigit() else 0
        if asked_ns > built_ns:
            return False
        stamp = str(time.time_ns()).encode("ascii")
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, stamp, 0)
        return True
    except OSError as error:
        log.debug("cannot use the reload stamp of pid %d: %s", server_pid, error)
        return True
    finally:
        os.close(descriptor)  # also releases the lock
