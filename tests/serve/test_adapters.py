"""The servers behind ``reloadmw serve``: one interface, and waitress's internals checked."""

from __future__ import annotations

import http.client
import socket
import threading
import time

import pytest

from reloadmw.serve.adapter import SERVERS, open_adapter
from reloadmw.serve.waitress_adapter import missing_internals


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


@pytest.fixture
def listening():
    sock = socket.create_server(("127.0.0.1", 0))
    yield sock
    sock.close()


def test_an_unknown_server_names_the_choices(listening):
    with pytest.raises(ValueError, match=r"'gunicorn'.*'wsgiref', 'waitress'"):
        open_adapter("gunicorn", listening, app)


@pytest.mark.parametrize("server", SERVERS)
def test_serve_stop_accepting_and_drain(listening, server):
    adapter = open_adapter(server, listening, app)
    thread = threading.Thread(target=adapter.serve, daemon=True)
    thread.start()
    port = listening.getsockname()[1]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/")
    assert connection.getresponse().read() == b"ok"
    connection.close()
    adapter.stop_accepting()
    assert adapter.drain(10) is True


def test_waitress_still_has_every_internal_the_adapter_uses(listening):
    """Fails, naming them, when a waitress release drops what the graceful stop needs."""
    adapter = open_adapter("waitress", listening, app)
    server = adapter.server  # type: ignore[attr-defined]
    threading.Thread(target=adapter.serve, daemon=True).start()
    client = socket.create_connection(listening.getsockname(), timeout=10)
    try:
        deadline = time.monotonic() + 10
        while not server.active_channels and time.monotonic() < deadline:
            time.sleep(0.01)
        [channel] = list(server.active_channels.values())
        assert missing_internals(server, channel) == []
    finally:
        client.close()
        adapter.stop_accepting()
        adapter.drain(5)


def test_missing_internals_are_named():
    assert missing_internals(object(), object()) == [
        "server.accepting", "server.trigger", "server.active_channels", "server.pull_trigger",
        "server.channel_class", "task.build_response_header", "task.set_close_on_finish",
        "channel.requests", "channel.total_outbufs_len", "channel.last_activity",
        "channel.will_close", "channel.task_class",
    ]  # fmt: skip
