"""Servers that reloadmw does not run itself, started bare: waitress and wsgiref."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

from tests import support

pytestmark = pytest.mark.server

WSGIREF_MAIN = """
from wsgiref.simple_server import make_server
from app import application

make_server("127.0.0.1", {port}, application).serve_forever()
"""


def test_bare_waitress_never_truncates_a_64_mb_response(workdir, server_factory):
    """waitress sends after close(): the auto hook warns once and does not restart."""
    version = support.install_versioned_app(workdir, "app.py", {"interval": 0})
    port = support.free_port()
    waitress = os.path.join(os.path.dirname(sys.executable), "waitress-serve")
    server = server_factory(
        [waitress if os.access(waitress, os.X_OK) else shutil.which("waitress-serve"),
         f"--listen=127.0.0.1:{port}", "app:application"],
        port=port,
        cwd=workdir,
    )  # fmt: skip
    pid = support.get(server.port).headers["X-Pid"]
    support.write(version, "VERSION = 2\n")
    for _ in range(2):
        response = support.get(server.port, "/huge", timeout=60)
        assert response.status == 200
        assert response.body == support.BIG * 16
        assert response.headers["X-Pid"] == pid
    log = server.log()
    assert log.count("waitress sends a response after the application's close()") == 1
    assert "reloadmw serve --server waitress" in log
    assert "change detected" not in log


def test_bare_wsgiref_exits_with_status_3_after_a_whole_response(workdir):
    version = support.install_versioned_app(workdir, "app.py", {"interval": 0})
    port = support.free_port()
    (workdir / "main.py").write_text(WSGIREF_MAIN.format(port=port))
    log = workdir / "wsgiref.log"
    with open(log, "wb") as stream:
        process = subprocess.Popen(
            [sys.executable, "main.py"], cwd=workdir, stdout=stream, stderr=subprocess.STDOUT
        )
    try:
        support.wait_for(lambda: support.get(port).status == 200, 30, what="wsgiref")
        # That request's check runs after its response: let it finish before the edit,
        # or it could find the edit and end the process before the next request.
        time.sleep(0.5)
        support.write(version, "VERSION = 2\n")
        got = support.get(port, "/big")
        assert got.body == support.BIG, log.read_text()  # whole, though the process exits
        assert process.wait(10) == 3
        text = log.read_text()
        assert "the standard library's wsgiref server cannot start a fresh process" in text
        assert "via exit" in text
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
