"""Around a restart: after the response's own close(), announced once, bytecode dropped."""

from __future__ import annotations

import importlib.util
import io
import logging
import os

import pytest

from reloadmw.restart import PATHS_SHOWN, AfterClose, announce, drop_bytecode
from tests.support import write


class Body:
    def __init__(self, events, fail=False):
        self.events, self.fail = events, fail

    def __iter__(self):
        yield b"body"

    def close(self):
        self.events.append("body closed")
        if self.fail:
            raise RuntimeError("close failed")


def test_after_runs_once_after_the_iterables_own_close():
    events = []
    wrapped = AfterClose(Body(events), lambda: events.append("after"))
    assert list(wrapped) == [b"body"]
    assert events == []
    wrapped.close()
    wrapped.close()
    assert events == ["body closed", "after"]


def test_after_runs_even_when_close_raises_and_the_error_reaches_the_server():
    events = []
    wrapped = AfterClose(Body(events, fail=True), lambda: events.append("after"))
    with pytest.raises(RuntimeError, match="close failed"):
        wrapped.close()
    assert events == ["body closed", "after"]


def test_an_iterable_without_close_still_gets_after():
    events = []
    AfterClose([b"x"], lambda: events.append("after")).close()
    assert events == ["after"]


def test_announce_logs_and_writes_the_error_stream_once(caplog):
    stream = io.StringIO()
    changed = [f"/srv/m{n}.py" for n in range(PATHS_SHOWN + 2)]
    with caplog.at_level(logging.INFO, logger="reloadmw"):
        announce(changed, "gunicorn", stream)
    [record] = [r for r in caplog.records if r.name == "reloadmw"]
    assert "change detected in /srv/m0.py" in record.getMessage()
    assert "and 2 more; restarting pid" in record.getMessage()
    assert stream.getvalue().count("reloadmw: change detected") == 1


@pytest.mark.parametrize("handler_stream", ["same", "other"])
def test_announce_writes_its_line_once_where_logging_already_shows_it(handler_stream):
    """An ini file's console handler on the server's error stream: its line, not two."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream if handler_stream == "same" else io.StringIO())
    handler.setFormatter(logging.Formatter("%(levelname)s [%(name)s] %(message)s"))
    logger = logging.getLogger("reloadmw")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        announce(["/srv/a.py"], "gunicorn", stream)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    lines = stream.getvalue().splitlines()
    if handler_stream == "same":
        assert lines == [f"INFO [reloadmw] change detected in /srv/a.py; restarting pid "
                         f"{os.getpid()} via gunicorn"]  # fmt: skip
    else:
        assert [line.startswith("reloadmw: change detected") for line in lines] == [True]


def test_announce_survives_a_broken_error_stream():
    class Broken:
        def write(self, text):
            raise OSError("closed")

    announce(["/srv/a.py"], "exit", Broken())  # no exception


def test_drop_bytecode_removes_the_cached_files(tmp_path):
    source = write(tmp_path / "mod.py", "X = 1\n")
    cached = importlib.util.cache_from_source(str(source))
    write(tmp_path / cached, "")
    drop_bytecode([str(source)])
    assert not (tmp_path / cached).exists()
