"""End to end under a real uWSGI: with and without lazy-apps, --ini-paste, master on."""

from __future__ import annotations

import os
import signal
import sysconfig

import pytest

from tests import support

pytestmark = pytest.mark.server

INTERVAL = 0.5

UWSGI_SECTION = """\
[uwsgi]
http-socket = 127.0.0.1:{port}
master = true
processes = 2
lazy-apps = true
chdir = {directory}
pythonpath = {directory}

"""


def uwsgi_binary() -> str:
    # The interpreter's own scripts directory: a version-manager shim would be
    # another process between the test and the server it must stop.
    path = os.path.join(sysconfig.get_path("scripts"), "uwsgi")
    return path if os.access(path, os.X_OK) else support.require_executable("uwsgi")


@pytest.fixture
def uwsgi(workdir, server_factory):
    def start(*arguments: str, port: int | None = None) -> support.Server:
        port = port or support.free_port()
        return server_factory(
            [uwsgi_binary(), *arguments],
            port=port,
            cwd=workdir,
            stop_signal=signal.SIGINT,  # SIGTERM is a "brutal reload" for uWSGI
        )

    return start


def options(port: int, processes: int, *extra: str) -> list[str]:
    return [
        "--http-socket", f"127.0.0.1:{port}", "--master", "--processes", str(processes),
        "--wsgi-file", "app.py", "--need-app", *extra,
    ]  # fmt: skip


RELOADED_SERVER = "gracefully (RE)spawned uWSGI master process"


@pytest.mark.parametrize(
    ("processes", "lazy", "server_reloads"),
    [(2, True, 0), (2, False, 1), (1, True, 0)],
    ids=["2-workers-lazy-apps", "2-workers-imported-by-master", "1-worker-lazy-apps"],
)
def test_an_edit_reloads_without_losing_a_byte(workdir, uwsgi, processes, lazy, server_reloads):
    version = support.install_versioned_app(workdir, "app.py", {"interval": INTERVAL})
    port = support.free_port()
    server = uwsgi(*options(port, processes, *(["--lazy-apps"] if lazy else [])), port=port)
    old_pids = support.wait_for_workers(workdir / "ready", processes if lazy else 1)
    outcome = support.edit_and_watch(server.port, version, 2, interval=INTERVAL, budget=3)
    assert outcome.in_flight.headers["X-Version"] == "1"
    assert outcome.trigger.headers["X-Version"] == "2"  # the request that found it
    assert outcome.fresh.headers["X-Pid"] not in old_pids
    if server_reloads:  # after the request in flight ends
        support.wait_for(lambda: RELOADED_SERVER in server.log(), 10, what="the reload")
    # (the notice is written once the answer is sent: maybe just after the client has it)
    said = f"reloadmw: change detected in {version}"
    support.wait_for(lambda: said in server.log(), 10, what="the restart notice")
    log = server.log()
    assert "via uwsgi" in log
    # Imported by the master: one graceful reload of the whole server, asked for once.
    # lazy-apps: SIGHUP reloads each worker; the master (and any router) stays.
    assert log.count(RELOADED_SERVER) == server_reloads, log
    if lazy:  # the worker that found it, and its idle siblings (a busy one: after its
        # next request, which a fresh interpreter answers)
        support.wait_for(
            lambda: "Respawned uWSGI worker" in server.log(), 10, what="a worker respawned"
        )
    print(f"\nuWSGI {processes} worker(s), lazy-apps {lazy}: new code {outcome.seconds:.2f}s")


def test_ini_paste_with_a_relative_extra_file(workdir, uwsgi):
    version = support.install_versioned_app(workdir, "app.py", None)
    port = support.free_port()
    ini = workdir / "site.ini"
    ini.write_text(
        UWSGI_SECTION.format(port=port, directory=workdir)
        + support.PASTE_PIPELINE.format(interval=INTERVAL)
    )
    template = support.write(workdir / "templates" / "page.html", "<p>1</p>")
    server = uwsgi("--ini-paste", str(ini), port=port)
    old_pids = support.wait_for_workers(workdir / "ready", 2)
    support.template_edit_restarts(server, template, old_pids, INTERVAL)
    outcome = support.edit_and_watch(server.port, version, 2, interval=INTERVAL, budget=3)
    assert outcome.in_flight.headers["X-Version"] == "1"
    # A PasteDeploy pipeline names no module to import afresh: the request that finds
    # the change gets the old code, as before. lazy-apps: each worker reloads alone;
    # the master, which holds the listening socket, never does.
    # the template, then version.py (its notice follows the answer: maybe just after)
    support.wait_for(lambda: server.log().count("change detected in") >= 2, 10, what="notices")
    assert server.log().count(RELOADED_SERVER) == 0
