"""End to end under a real gunicorn: sync and gthread workers, --preload, --paste, and load."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from tests import support

pytestmark = pytest.mark.server

INTERVAL = 0.5


@pytest.fixture
def gunicorn(workdir, server_factory):
    def start(
        *arguments: str,
        workers: int = 2,
        worker_class: str = "sync",
        env: dict[str, str] | None = None,
    ) -> support.Server:
        port = support.free_port()
        return server_factory(
            [sys.executable, "-m", "gunicorn", "--workers", str(workers),
             "--worker-class", worker_class, "--threads", "4", "--bind", f"127.0.0.1:{port}",
             "--graceful-timeout", "10", "--chdir", str(workdir), *arguments],
            port=port,
            cwd=workdir,
            env={"XDG_RUNTIME_DIR": str(workdir), **(env or {})},  # gunicorn's control socket
        )  # fmt: skip

    return start


def versioned(workdir: Path) -> Path:
    return support.install_versioned_app(workdir, "app.py", {"interval": INTERVAL})


@pytest.mark.parametrize("worker_class", ["sync", "gthread"])
def test_an_edit_is_served_without_losing_a_byte(workdir, gunicorn, worker_class):
    version = versioned(workdir)
    server = gunicorn("app:application", worker_class=worker_class)
    old_pids = support.wait_for_workers(workdir / "ready", 2)
    outcome = support.edit_and_watch(server.port, version, 2, interval=INTERVAL, budget=3)
    assert outcome.in_flight.headers["X-Version"] == "1"
    assert outcome.trigger.headers["X-Version"] == "2"  # the request that found it
    assert outcome.fresh.headers["X-Pid"] not in old_pids
    log = server.log()
    assert f"reloadmw: change detected in {version}" in log
    assert "via gunicorn" in log
    assert "Handling signal: hup" in log  # the arbiter replaced every worker at once
    print(f"\ngunicorn {worker_class}: new code {outcome.seconds:.2f}s after the edit")


def test_four_workers_cost_no_stale_page(workdir, gunicorn):
    version = versioned(workdir)
    server = gunicorn("app:application", workers=4)
    support.wait_for_workers(workdir / "ready", 4)
    stale_counts = []
    for number in (2, 3, 4):
        support.write(version, f"VERSION = {number}\n")
        time.sleep(1.0)  # a developer switches to the browser and reloads: a page a second
        stale = 0
        for _ in range(10):
            if support.get(server.port).headers["X-Version"] == str(number):
                break
            stale += 1
            time.sleep(1.0)
        else:
            raise AssertionError(f"no new code after 10 pages:\n{server.log()}")
        stale_counts.append(stale)
        time.sleep(0.3)  # the fresh page's own check runs after it: not into the next edit
    print(f"\ngunicorn, 4 sync workers, a page a second: stale pages per edit {stale_counts}")
    assert stale_counts == [0, 0, 0], server.log()
    assert server.log().count("Handling signal: hup") == 3  # one reload round per edit


def test_preload_warns_once_and_never_recycles_workers(workdir, gunicorn):
    """With --preload no worker can run new code: reloadmw says so and stops checking,
    instead of ending a worker per request (each new one forked with the same old code)."""
    version = versioned(workdir)
    server = gunicorn("--preload", "app:application")
    pids = {support.get(server.port).headers["X-Pid"] for _ in range(6)}
    support.write(version, "VERSION = 2\n")
    time.sleep(INTERVAL + 0.1)
    for _ in range(8):
        response = support.get(server.port, "/big")
        assert response.status == 200
        assert response.body == support.BIG
        assert response.headers["X-Version"] == "1"  # as the warning says
        pids.add(response.headers["X-Pid"])
        time.sleep(INTERVAL / 4)
    log = server.log()
    assert "forked (--preload): a new worker would run the old code" in log
    assert "Handling signal: hup" not in log
    assert len(pids) <= 2 and log.count("Booting worker") == 2, log  # no worker recycled


def test_paste_ini_pipeline_with_a_relative_extra_file(workdir, gunicorn):
    version = support.install_versioned_app(workdir, "app.py", None)
    (workdir / "site.ini").write_text(support.PASTE_PIPELINE.format(interval=INTERVAL))
    template = support.write(workdir / "templates" / "page.html", "<p>1</p>")
    server = gunicorn("--paste", str(workdir / "site.ini"))
    old_pids = support.wait_for_workers(workdir / "ready", 2)
    support.template_edit_restarts(server, template, old_pids, INTERVAL)
    outcome = support.edit_and_watch(server.port, version, 2, interval=INTERVAL, budget=3)
    assert outcome.in_flight.headers["X-Version"] == "1"


def test_gthread_under_load_nothing_is_lost(workdir, gunicorn):
    version = versioned(workdir)
    server = gunicorn("app:application", worker_class="gthread")
    support.wait_for_workers(workdir / "ready", 2)
    # A pause after each edit is seen: with none, the next edit can be half written
    # while a fresh interpreter imports the last one (that answer fails, as a new
    # worker's import would).
    report = support.load_while_editing(
        server.port, version, interval=INTERVAL, budget=3, pause=1.0, limit=120
    )
    print(f"\ngunicorn gthread under load: {report}")
    assert report.failures == 0, server.log()
    assert report.edits == 20


def test_a_stopped_servers_files_are_removed_by_the_next_server(workdir, gunicorn):
    """The workers share small files named after gunicorn's pid; the server's end is seen by
    none of them, so the next server's workers remove them, and the temporary directory
    does not fill up over a day of restarts."""
    temp = workdir / "tmp"
    temp.mkdir()
    version = versioned(workdir)

    def files_of(server: support.Server) -> list[str]:
        assert server.process is not None
        return sorted(n for n in os.listdir(temp) if f"-{server.process.pid}." in n)

    first = gunicorn("app:application", env={"TMPDIR": str(temp)})
    support.wait_for_workers(workdir / "ready", 2)
    support.edit_and_watch(first.port, version, 2, interval=INTERVAL, budget=3)
    left = files_of(first)
    assert any(name.endswith(".reload") for name in left), os.listdir(temp)
    first.stop()
    assert files_of(first) == left  # gunicorn stopped: nobody removed them
    second = gunicorn("app:application", env={"TMPDIR": str(temp)})
    support.write(version, "VERSION = 3\n")
    support.wait_for(
        lambda: support.get(second.port).headers["X-Version"] == "3" and not files_of(first),
        10, what=f"the first server's files removed: {os.listdir(temp)}\n{second.log()}",
    )  # fmt: skip
    assert files_of(second)
