"""``reloadmw serve`` on a FUSE mount edited from underneath (as Docker Desktop's sharing,
WSL 2's drives or a network share do): the first request 0.1 s after the save is fresh.
Before, the inotify backend saw such an edit only at its full stat pass, up to 10 s later."""

from __future__ import annotations

import sys
import time

import pytest

from tests import support
from tests.support.mounts import bindfs, require_fuse

pytestmark = [pytest.mark.server, pytest.mark.linux]

APP = """\
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"version %d"]
"""


def test_an_edit_underneath_a_fuse_mount_is_fresh_at_once(workdir, server_factory):
    require_fuse()
    underneath = workdir / "underneath"
    support.write(underneath / "app.py", APP % 1)
    with bindfs(underneath, workdir / "mounted") as mounted:
        port = support.free_port()
        server = server_factory(
            [sys.executable, "-m", "reloadmw", "serve", "app.py", "--port", str(port)],
            port=port, cwd=mounted,
        )  # fmt: skip
        try:
            assert support.get(port).text == "version 1"
            log = server.log()
            assert "1 file on fuse stat'ed at every check" in log, log
            for number in (2, 3):
                time.sleep(1.0)  # a developer's pause
                support.write(underneath / "app.py", APP % number, whole=True)
                time.sleep(0.1)
                first = support.get(port)
                assert (first.status, first.text) == (200, f"version {number}"), server.log()
        finally:
            server.stop()
