"""Under ``reloadmw serve``, the request that finds a change is answered by the new code.

The server process that finds the change holds the request, hands over to a new
process, and sends the request there: the client sees one slower response from
the new code, on the same connection, with no 503, no redirect and no reset.
"""

from __future__ import annotations

import re
import socket
import sys
import time

import pytest

from tests import support

pytestmark = pytest.mark.server

SERVERS = ["wsgiref", "waitress"]


@pytest.fixture
def serve(workdir, server_factory):
    def start(*arguments: str, env: dict[str, str] | None = None) -> support.Server:
        port = support.free_port()
        argv = [sys.executable, "-m", "reloadmw", "serve", "app.py", "--port", str(port)]
        return server_factory([*argv, *arguments], port=port, cwd=workdir, env=env)

    return start


def restarts(server: support.Server) -> int:
    return len(re.findall(r"restarted in", server.log()))


@pytest.mark.parametrize("server_kind", SERVERS)
@pytest.mark.parametrize("delay", [0.1, 1.5])
def test_the_first_request_after_a_save_runs_the_new_code(workdir, serve, server_kind, delay):
    version = support.install_versioned_app(workdir, "app.py", None)
    server = serve("--server", server_kind)
    before = support.get(server.port)
    assert before.headers["X-Version"] == "1"
    support.write(version, "VERSION = 2\n")
    time.sleep(delay)
    first = support.get(server.port)
    assert first.status == 200
    assert first.headers["X-Version"] == "2", server.log()
    assert first.headers["X-Pid"] != before.headers["X-Pid"]
    assert support.get(server.port).headers["X-Pid"] == first.headers["X-Pid"]
    support.wait_for(lambda: restarts(server) == 1, 10, what="one restart line")


@pytest.mark.parametrize("server_kind", SERVERS)
def test_a_64_mb_post_that_finds_the_change_arrives_whole(workdir, serve, server_kind):
    version = support.install_versioned_app(workdir, "app.py", None)
    server = serve("--server", server_kind)
    support.get(server.port)
    support.write(version, "VERSION = 2\n")
    assert support.echo(server.port, support.BIG * 16) == ("2", "whole")


def test_a_chunked_upload_that_finds_the_change_arrives_whole(workdir, serve):
    """waitress ends a chunked body itself (wsgi.input_terminated); wsgiref cannot."""
    version = support.install_versioned_app(workdir, "app.py", None)
    server = serve("--server", "waitress")
    support.get(server.port)
    support.write(version, "VERSION = 2\n")
    parts = [b"x" * 1000, b"y" * 70000, b"z"]  # sent chunked, piece by piece
    assert support.echo(server.port, parts, method="PUT") == ("2", "whole")


@pytest.mark.parametrize("server_kind", SERVERS)
def test_a_keep_alive_connection_opened_before_the_edit_gets_the_new_code(
    workdir, serve, server_kind
):
    version = support.install_versioned_app(workdir, "app.py", None)
    server = serve("--server", server_kind)
    # On the same connection where the server keeps it (waitress).
    versions = support.versions_on_one_connection(
        server.port, 4, lambda: support.write(version, "VERSION = 2\n")
    )
    assert versions == ["1", "2", "2", "2"]


@pytest.mark.parametrize("server_kind", SERVERS)
def test_a_syntax_error_shows_the_diagnostic_on_the_first_request(workdir, serve, server_kind):
    version = support.install_versioned_app(workdir, "app.py", None)
    server = serve("--server", server_kind)
    pid = support.get(server.port).headers["X-Pid"]
    support.write(version, "VERSION = (\n")
    page = support.get(server.port)
    assert page.status == 500 and "Syntax error" in page.text
    assert "was never closed" in page.text
    support.write(version, "VERSION = 3\n")
    fixed = support.get(server.port)
    assert (fixed.status, fixed.headers["X-Version"]) == (200, "3")
    assert fixed.headers["X-Pid"] != pid


def test_an_import_error_in_the_new_process_reaches_the_held_request(workdir, serve):
    version = support.install_versioned_app(workdir, "app.py", None)
    server = serve()
    support.get(server.port)
    support.write(version, "raise RuntimeError('the settings are wrong')\n")
    page = support.get(server.port)
    assert page.status == 500
    assert "The application failed to import" in page.text
    assert "the settings are wrong" in page.text
    support.write(version, "VERSION = 4\n")
    assert support.wait_for(
        lambda: support.get(server.port).headers.get("X-Version") == "4", 10, what="the fix"
    )


def test_a_client_that_leaves_while_held_changes_nothing(workdir, serve):
    version = support.install_versioned_app(workdir, "app.py", None)
    server = serve()
    before = support.get(server.port)
    support.write(version, "VERSION = 2\n")
    with socket.create_connection(("127.0.0.1", server.port)) as client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    after = support.wait_for(
        lambda: (r := support.get(server.port)).headers["X-Version"] == "2" and r,
        10,
        what="the new code",
    )
    assert after.headers["X-Pid"] != before.headers["X-Pid"]
    assert "Traceback" not in server.log()


def test_a_successor_that_never_answers_costs_a_bounded_wait_and_a_503(workdir, serve):
    version = support.install_versioned_app(workdir, "app.py", None)
    server = serve(env={"RELOADMW_HANDOFF_TIMEOUT": "2"})
    support.get(server.port)
    support.write(version, "import time\ntime.sleep(60)\nVERSION = 2\n")  # a hung import
    started = time.monotonic()
    page = support.get(server.port)
    assert page.status == 503
    assert time.monotonic() - started < 10
    assert "did not answer GET / within 2s" in server.log()
