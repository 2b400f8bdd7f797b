"""The messages between the supervisor and a server process."""

from __future__ import annotations

import pytest

from reloadmw.serve import protocol


@pytest.mark.parametrize(
    "message",
    [
        protocol.Ready(12, "40 files watched in app (40)"),
        protocol.Restart(12, ["/srv/a.py", "/srv/b é.py"]),
        protocol.Failed(12, "no module named 'x'"),
        protocol.Stop(),
        protocol.Ready(12, "1 file watched in ./", "", ["json", "django.db.models"]),
        protocol.Restart(12, ["/srv/a.py"], ["json"]),
        protocol.Preload(["json", "email.parser"]),
        protocol.Preloaded(412),
        protocol.LeftOut("threadlib", "it started a thread"),
        protocol.Spawn(["app.py", "wsgiref", '{"interval": 0}']),
        protocol.Spawned(4242),
        protocol.Stale("/venv/lib/site-packages/django/__init__.py"),
    ],
)
def test_every_message_travels_as_one_line(message):
    line = protocol.encode(message)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert protocol.decode(line) == message


def test_the_reader_cuts_lines_whatever_the_chunks():
    stream = b"".join(
        protocol.encode(m)
        for m in (
            protocol.Ready(1, "2 files watched in app"),
            protocol.Stop(),
            protocol.Restart(1),
        )
    )
    reader = protocol.Reader()
    found = []
    for index in range(0, len(stream), 7):
        found += reader.feed(stream[index : index + 7])
    assert found == [
        protocol.Ready(1, "2 files watched in app"),
        protocol.Stop(),
        protocol.Restart(1, []),
    ]


@pytest.mark.parametrize("line", [b"not json", b'{"kind": "reboot"}', b'{"kind": "ready"}', b"[]"])
def test_a_line_that_is_no_message_is_a_value_error(line):
    with pytest.raises(ValueError, match="not a reloadmw serve message"):
        protocol.decode(line)


def test_exit_statuses_are_the_documented_numbers():
    assert [int(s) for s in protocol.ExitStatus] == [0, 1, 2, 3, 4]
