"""Before a restart, import the application's entry module in a fresh interpreter.

A restart into code that fails to import takes gunicorn down ("Worker failed to
boot"), leaves uWSGI and mod_wsgi answering bare 500s, and loses the process
that still works. So where the server offers no guard of its own, reloadmw first
imports the module that built the middleware (the WSGI script, gunicorn's
``module:app``, uWSGI's ``wsgi-file``) in a fresh interpreter with the same
``sys.path``, working directory and environment, and restarts only when that
succeeds; until then the old process explains, as for a syntax error.

The fresh interpreter runs with ``RELOADMW_DISABLE=1`` (its middleware is a
pass-through) and ``RELOADMW_PREFLIGHT=1`` (for code that wants to know).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys

from ..collect import Entry

log = logging.getLogger("reloadmw")

#: How long the import may take before reloadmw restarts anyway (with a WARNING).
TIMEOUT = 60.0
#: Set in the fresh interpreter's environment.
VARIABLE = "RELOADMW_PREFLIGHT"

#: What the fresh interpreter runs: the import, as the one that answers does it.
_SCRIPT = "from reloadmw.fresh.child import check; check()"


def fresh_environment(**more: str) -> dict[str, str]:
    """The environment of a fresh interpreter like this one: its ``sys.path``, reloadmw off."""
    path = os.pathsep.join(p for p in sys.path if p and os.path.isdir(p))
    return {**os.environ, "PYTHONPATH": path, "RELOADMW_DISABLE": "1", VARIABLE: "1", **more}


def python() -> str | None:
    """An interpreter like this one (under uWSGI, sys.executable is the uwsgi binary)."""
    candidates = [sys.executable] if os.path.basename(sys.executable).startswith("python") else []
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    if sys.platform == "win32":
        candidates.append(os.path.join(sys.exec_prefix, "python.exe"))
    else:
        binaries = os.path.join(sys.exec_prefix, "bin")
        candidates += [os.path.join(binaries, name) for name in (f"python{version}", "python3")]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def failure(entry: Entry) -> str | None:
    """Import ``entry`` in a fresh interpreter: None when it works, else what went wrong.

    Never raises; an interpreter that cannot be found or run, or an import that
    runs out of time, is logged and counts as working (a restart is then what
    it would have been without this check).
    """
    executable = python()
    if executable is None:
        log.warning("no Python interpreter found beside %s: restarting unchecked", sys.executable)
        return None
    try:
        result = subprocess.run(
            [executable, "-c", _SCRIPT, entry.kind, entry.name, entry.path],
            cwd=os.getcwd(), env=fresh_environment(), stdin=subprocess.DEVNULL,
            capture_output=True, text=True, errors="replace", timeout=TIMEOUT,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        log.warning("importing %s took over %gs: restarting unchecked", entry, TIMEOUT)
        return None
    except OSError as error:
        log.warning("could not run %s to check the import: %s", executable, error)
        return None
    if result.returncode == 0:
        return None
    return result.stderr.strip() or f"{executable} exited with status {result.returncode}"


def shared_failure(entry: Entry, key: str) -> str | None:
    """``failure(entry)``, run once for ``key`` among the sibling workers of one server.

    Every worker of a gunicorn or uWSGI server finds the same edit: the first one
    imports (under a lock on a small file named after the server's pid) and logs
    the import error once; the others read its answer. Without ``fcntl``
    (Windows), each process runs its own.
    """
    from ..hooks.siblings import read_from, server_file, server_path, write_to

    digest = hashlib.sha256(f"{entry}\0{key}".encode(errors="replace")).hexdigest()
    with server_file(server_path(os.getppid(), "preflight")) as descriptor:
        if descriptor is None:
            return _logged(entry, failure(entry))
        try:
            known = json.loads(read_from(descriptor, 1 << 20) or b"{}")
        except ValueError:
            known = {}
        if isinstance(known, dict) and known.get("key") == digest:
            cached = known.get("failure")
            return cached if isinstance(cached, str) else None
        result = _logged(entry, failure(entry))
        write_to(descriptor, json.dumps({"key": digest, "failure": result}).encode())
        return result


def _logged(entry: Entry, result: str | None) -> str | None:
    if result is not None:
        log.error("not restarting: importing %s fails:\n%s", entry, result)
    return result
