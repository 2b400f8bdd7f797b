"""End to end under a real gunicorn: edit a module, get the new code, lose no byte."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from tests import support

pytestmark = pytest.mark.server

INTERVAL = 0.5


def serve_versioned(workdir: Path) -> Path:
    """Copy the versioned app beside a version.py that the test edits."""
    return support.install_versioned_app(workdir, "app.py", {"interval": INTERVAL})


def test_sync_workers_restart_into_new_code_without_truncating(workdir, server_factory):
    version = serve_versioned(workdir)
    port = support.free_port()
    server = server_factory(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "2",
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{port}",
            "--graceful-timeout",
            "5",
            "app:application",
        ],
        port=port,
        cwd=workdir,
        env={"XDG_RUNTIME_DIR": str(workdir)},
    )
    old_pids = support.wait_for_workers(workdir / "ready", 2)

    support.write(version, "VERSION = 2  # edited\n")
    edited = time.monotonic()
    served_new = None
    responses = 0
    while time.monotonic() - edited < INTERVAL + 3:
        response = support.get(port, "/big")
        responses += 1
        assert response.status == 200
        assert len(response.body) == len(support.BIG)
        assert response.body == support.BIG
        if response.headers["X-Version"] == "2":
            served_new = response
            break
    assert served_new is not None, f"no new code within {INTERVAL + 3}s:\n{server.log()}"
    assert served_new.headers["X-Pid"] not in old_pids
    log = server.log()
    assert "reloadmw: change detected in " + str(version) in log
    assert "via gunicorn" in log
