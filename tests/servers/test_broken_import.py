"""A broken import never takes a server down: gunicorn, uWSGI and mod_wsgi daemon mode, with
the plain ``application = ReloadMiddleware(application)`` of the docs.

Before a restart, reloadmw imports the WSGI script in a fresh interpreter; while that fails,
the old process stays and serves the import error to loopback clients, and the fixed code is
served once it imports again, with no action by the developer.
"""

from __future__ import annotations

import sys
import time

import pytest

from tests import support
from tests.servers.apache import Apache
from tests.servers.test_uwsgi import uwsgi_binary

pytestmark = pytest.mark.server

INTERVAL = 0.5
SERVERS = {
    "gunicorn-sync-1": ("gunicorn", ["--worker-class", "sync", "--workers", "1"]),
    "gunicorn-sync-4": ("gunicorn", ["--worker-class", "sync", "--workers", "4"]),
    "gunicorn-gthread-2": ("gunicorn", ["--worker-class", "gthread", "--workers", "2"]),
    "uwsgi-lazy-apps-2": ("uwsgi", ["--processes", "2", "--lazy-apps"]),
    "uwsgi-2": ("uwsgi", ["--processes", "2"]),
    "mod_wsgi-daemon": ("apache", []),
}


def start(kind: str, extra: list[str], workdir, server_factory) -> support.Server:
    if kind == "apache":
        return server_factory(Apache(workdir, "app.py", root=workdir / "httpd"))
    port = support.free_port()
    if kind == "gunicorn":
        argv = [sys.executable, "-m", "gunicorn", *extra, "--threads", "4",
                "--bind", f"127.0.0.1:{port}", "--chdir", str(workdir),
                "app:application"]  # fmt: skip
        return server_factory(argv, port=port, cwd=workdir, env={"XDG_RUNTIME_DIR": str(workdir)})
    argv = [uwsgi_binary(), "--http-socket", f"127.0.0.1:{port}", "--master", *extra,
            "--wsgi-file", "app.py", "--need-app"]  # fmt: skip
    return server_factory(argv, port=port, cwd=workdir, stop_signal=2)


@pytest.mark.parametrize("name", list(SERVERS))
def test_a_broken_import_is_explained_and_the_fix_is_served(workdir, server_factory, name):
    kind, extra = SERVERS[name]
    version = support.install_versioned_app(workdir, "app.py", {"interval": INTERVAL})
    server = start(kind, extra, workdir, server_factory)
    assert support.get(server.port).headers["X-Version"] == "1"
    time.sleep(INTERVAL + 0.1)
    support.write(version, "raise RuntimeError('the settings are broken')\nVERSION = 2\n")

    def explained() -> support.Response | None:
        response = support.get(server.port)
        return response if "the settings are broken" in response.text else None

    page = support.wait_for(explained, 15, what="the import error page")
    assert page.status == 500 and "The application failed to import" in page.text
    for _ in range(5):  # the server stays up, and keeps explaining
        assert support.get(server.port).status in (200, 500)
    assert server.process is not None and server.process.poll() is None, server.log()
    support.write(version, "VERSION = 3\n")
    fixed = support.wait_for(
        lambda: (r := support.get(server.port)).headers.get("X-Version") == "3" and r,
        20,
        what=f"the fixed code\n{server.log()[-3000:]}",
    )
    assert fixed.status == 200
    log = server.log()
    assert log.count("not restarting: importing") == 1, log  # said once, by one worker
    assert "Worker failed to boot" not in log
