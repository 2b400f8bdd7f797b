"""End to end under Apache with mod_wsgi: daemon mode (with and without request replay),
several daemon processes, embedded mode, and a PasteDeploy pipeline."""

from __future__ import annotations

import json
import re
import time

import pytest

from tests import support
from tests.servers.apache import Apache

pytestmark = pytest.mark.server

INTERVAL = 0.5


@pytest.fixture
def apache(workdir, server_factory):
    def start(script: str = "app.wsgi", **options) -> Apache:
        return server_factory(Apache(workdir, script, root=workdir / "httpd", **options))

    return start


@pytest.mark.parametrize("one_liner", [False, True], ids=["nothing-in-the-script", "one-liner"])
def test_replay_serves_the_first_request_after_an_edit_with_new_code(workdir, apache, one_liner):
    version = support.install_versioned_app(
        workdir, "app.wsgi", {"interval": INTERVAL}, one_liner=one_liner
    )
    server = apache()
    previous = support.get(server.port)
    assert previous.headers["X-Version"] == "1"
    support.get(server.port)  # mod_wsgi now calls reload_required before each request
    waits = []
    for number in range(2, 7):  # five edits, each followed by ONE request
        support.write(version, f"VERSION = {number}\n")
        time.sleep(INTERVAL + 0.1)
        started = time.monotonic()
        response = support.get(server.port)
        waits.append(time.monotonic() - started)
        assert response.headers["X-Version"] == str(number), server.log()
        assert response.headers["X-Pid"] != previous.headers["X-Pid"]
        previous = response
    assert server.log().count("via mod_wsgi reload_required") == 5
    print(f"\nmod_wsgi replay ({'one-liner' if one_liner else 'installed by reloadmw'}): "
          f"first request fresh 5/5, waiting {min(waits):.2f}-{max(waits):.2f}s")  # fmt: skip


def test_replay_keeps_requests_in_flight_and_every_byte(workdir, apache):
    version = support.install_versioned_app(workdir, "app.wsgi", {"interval": INTERVAL})
    server = apache()
    support.get(server.port)
    outcome = support.edit_and_watch(server.port, version, 2, interval=INTERVAL, budget=3)
    assert outcome.trigger.headers["X-Version"] == "2"  # replayed: not even one stale page
    assert outcome.in_flight.headers["X-Version"] == "1"
    assert outcome.trigger.headers["X-Pid"] != outcome.before.headers["X-Pid"]
    print(f"\nmod_wsgi daemon, replay: new code {outcome.seconds:.2f}s after the edit")


def test_without_replay_the_check_runs_after_the_response(workdir, apache):
    version = support.install_versioned_app(
        workdir, "app.wsgi", {"interval": INTERVAL, "replay": False}
    )
    server = apache()
    outcome = support.edit_and_watch(server.port, version, 2, interval=INTERVAL, budget=3)
    assert outcome.trigger.headers["X-Version"] == "1"  # the one stale page
    assert outcome.in_flight.headers["X-Version"] == "1"
    assert outcome.fresh.headers["X-Pid"] != outcome.before.headers["X-Pid"]
    log = server.log()
    assert "via mod_wsgi\n" in log  # the SIGINT hook, chosen by "auto"
    assert "reload_required" not in log
    print(f"\nmod_wsgi daemon, no replay: new code {outcome.seconds:.2f}s after the edit")


def test_an_extra_file_restarts_too(workdir, apache):
    template = support.write(workdir / "templates" / "page.html", "<p>1</p>")
    support.install_versioned_app(
        workdir, "app.wsgi", {"interval": INTERVAL, "extra_files": [str(template)]}
    )
    server = apache()
    before = support.get(server.port)
    support.get(server.port)
    support.write(template, "<p>2</p>")
    time.sleep(INTERVAL + 0.1)
    after = support.get(server.port)
    assert after.headers["X-Pid"] != before.headers["X-Pid"]
    assert f"change detected in {template}" in server.log()


def test_every_daemon_process_serves_new_code_from_its_first_request(workdir, apache):
    version = support.install_versioned_app(workdir, "app.wsgi", {"interval": INTERVAL})
    server = apache(processes=4, threads=2)
    support.wait_for_workers(workdir / "ready", 1)
    pids = {support.get(server.port).headers["X-Pid"] for _ in range(40)}
    support.write(version, "VERSION = 2\n")
    time.sleep(INTERVAL + 0.1)
    stale = []
    served_by = set()
    for _ in range(40):
        response = support.get(server.port)
        served_by.add(response.headers["X-Pid"])
        if response.headers["X-Version"] != "2":
            stale.append(response.headers["X-Pid"])
    print(f"\nmod_wsgi processes=4: {len(pids)} pids before, {len(served_by)} after, "
          f"{len(stale)} stale of 40")  # fmt: skip
    assert stale == []
    assert not served_by & pids


def test_embedded_mode_warns_once_and_keeps_serving(workdir, apache):
    version = support.install_versioned_app(workdir, "app.wsgi", {"interval": 0})
    server = apache(daemon=False)
    first = support.get(server.port)
    support.write(version, "VERSION = 2\n")
    for _ in range(5):
        response = support.get(server.port)
        assert response.status == 200
        assert response.headers["X-Version"] == "1"  # no restart in embedded mode
    log = server.log()
    assert log.count("embedded mode cannot restart a process") == 1, log
    assert "change detected" not in log
    assert first.status == 200


PASTE_SCRIPT = """\
import os
from paste.deploy import loadapp

application = loadapp("config:" + os.path.join(os.path.dirname(__file__), "site.ini"))
"""


def test_paste_pipeline_loaded_by_a_wsgi_script(workdir, apache):
    version = support.install_versioned_app(workdir, "app.py", None)
    (workdir / "site.ini").write_text(support.PASTE_PIPELINE.format(interval=INTERVAL))
    (workdir / "paste.wsgi").write_text(PASTE_SCRIPT)
    template = support.write(workdir / "templates" / "page.html", "<p>1</p>")
    for path in (workdir / "site.ini", workdir / "paste.wsgi"):
        path.chmod(0o644)
    server = apache("paste.wsgi")
    before = support.get(server.port)
    support.get(server.port)
    support.write(template, "<p>2</p>")  # relative in the ini: resolved against its directory
    time.sleep(INTERVAL + 0.1)
    after = support.get(server.port)
    assert after.headers["X-Pid"] != before.headers["X-Pid"]
    assert f"change detected in {template}" in server.log()
    outcome = support.edit_and_watch(server.port, version, 2, interval=INTERVAL, budget=3)
    assert outcome.trigger.headers["X-Version"] == "2"  # the replay works through the ini too


def test_under_load_nothing_is_lost(workdir, apache):
    version = support.install_versioned_app(workdir, "app.wsgi", {"interval": INTERVAL})
    server = apache(threads=16)
    support.get(server.port)
    report = support.load_while_editing(server.port, version, interval=INTERVAL, budget=3)
    print(f"\nmod_wsgi daemon mode under load: {report}")
    assert report.failures == 0, server.log()
    assert report.edits == 20


def test_live_reload_the_poll_that_finds_a_change_is_replayed_and_says_reload(workdir, apache):
    version = support.install_versioned_app(
        workdir, "app.wsgi", {"interval": INTERVAL, "live_reload": True}
    )
    server = apache()
    page = support.get(server.port, "/page")
    generation, live = re.search(r'data-reloadmw="(\d+)\.(\d+)\.', page.text).groups()
    poll = f"/__reloadmw__/poll?g={generation}&v={live}&b="
    time.sleep(INTERVAL + 0.1)
    assert json.loads(support.get(server.port, poll).body) == {}
    support.write(version, "VERSION = 2\n")
    time.sleep(INTERVAL + 0.1)
    assert json.loads(support.get(server.port, poll).body)["reload"] is True
    assert "version 2" in support.get(server.port, "/page").text
    assert server.log().count("via mod_wsgi reload_required") == 1
