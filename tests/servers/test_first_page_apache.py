"""Under mod_wsgi daemon mode, Debian's module and mod_wsgi-express alike, the first page
after an edit runs the new code: the request replay (``reload_required``).

mod_wsgi-express serves every application through a generated handler script whose own
``reload_required`` answers True when the WSGI script file changed: reloadmw chains with it.
"""

from __future__ import annotations

import time

import pytest

from tests import support
from tests.servers.apache import Apache, Express

pytestmark = pytest.mark.server

INTERVAL = 0.5
FLAVOURS = ["debian-mod_wsgi", "mod_wsgi-express"]


@pytest.fixture
def apache(workdir, server_factory):
    def start(flavour: str) -> support.Server:
        if flavour == "mod_wsgi-express":
            return server_factory(Express(workdir, "app.wsgi", root=workdir / "express"))
        return server_factory(Apache(workdir, "app.wsgi", root=workdir / "httpd"))

    return start


def started(workdir, apache, flavour):
    version = support.install_versioned_app(workdir, "app.wsgi", {"interval": INTERVAL})
    server = apache(flavour)
    first = support.get(server.port)
    assert first.headers["X-Version"] == "1", server.log()
    support.get(server.port)  # the replay is installed: mod_wsgi asks before each request
    time.sleep(INTERVAL + 0.1)  # the developer edits for longer than the interval
    return version, server, first


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("delay", [0.1, 1.5])
def test_the_first_request_after_a_save_runs_the_new_code(workdir, apache, flavour, delay):
    version, server, before = started(workdir, apache, flavour)
    support.write(version, "VERSION = 2\n")
    time.sleep(delay)
    first = support.get(server.port)
    assert first.headers["X-Version"] == "2", server.log()
    assert first.headers["X-Pid"] != before.headers["X-Pid"]
    assert "via mod_wsgi reload_required (the request is replayed)" in server.log()


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_with_the_default_interval_a_request_just_before_the_save_hides_nothing(
    workdir, apache, flavour
):
    """Before, with a fixed interval of 1 s, a request 0.05 s before the save left the first
    page after it unchecked: 3 of 3 stale under mod_wsgi-express."""
    version = support.install_versioned_app(workdir, "app.wsgi", {})
    server = apache(flavour)
    for number in (2, 3, 4):
        time.sleep(1.0)
        assert support.get(server.port).headers["X-Version"] == str(number - 1), server.log()
        time.sleep(0.05)
        support.write(version, f"VERSION = {number}\n")
        time.sleep(0.1)
        first = support.get(server.port)
        assert (first.status, first.headers["X-Version"]) == (200, str(number)), server.log()


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_64_mb_post_that_finds_the_change_arrives_whole(workdir, apache, flavour):
    version, server, _ = started(workdir, apache, flavour)
    support.write(version, "VERSION = 2\n")
    assert support.echo(server.port, support.BIG * 16) == ("2", "whole")


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_keep_alive_connection_opened_before_the_edit_gets_the_new_code(
    workdir, apache, flavour
):
    version, server, _ = started(workdir, apache, flavour)

    def edit() -> None:
        time.sleep(INTERVAL + 0.1)  # the first request's check is behind us
        support.write(version, "VERSION = 2\n")

    assert support.versions_on_one_connection(server.port, 4, edit) == ["1", "2", "2", "2"]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_syntax_error_shows_the_diagnostic_on_the_first_request(workdir, apache, flavour):
    version, server, before = started(workdir, apache, flavour)
    support.write(version, "VERSION = (\n")
    page = support.get(server.port)
    assert page.status == 500 and "Syntax error" in page.text, server.log()
    support.write(version, "VERSION = 3\n")
    time.sleep(INTERVAL + 0.1)
    fixed = support.get(server.port)
    assert (fixed.status, fixed.headers["X-Version"]) == (200, "3")
    assert fixed.headers["X-Pid"] != before.headers["X-Pid"]
