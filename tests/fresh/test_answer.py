"""A fresh interpreter answers one request with the new code (reloadmw.fresh), in-process here."""

from __future__ import annotations

import gc
import io
import itertools
import logging
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from reloadmw import collect
from reloadmw.fresh import answer as fresh
from reloadmw.fresh import preflight, shared
from tests.support import write

pytestmark = pytest.mark.posix

APP = """\
import os
from reloadmw import ReloadMiddleware

VERSION = {version}

def inner(environ, start_response):
    if environ["PATH_INFO"] == "/fail":
        def pieces():
            yield b"partial"
            raise RuntimeError("after the headers")
        start_response("200 OK", [])
        return pieces()
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    text = f"v{{VERSION}} {{environ['REQUEST_METHOD']}} {{len(body)}} {{os.getpid()}}".encode()
    start_response("201 Created", [("X-Version", str(VERSION))])
    return [text]

application = ReloadMiddleware(inner)
"""


@pytest.fixture
def entry(tmp_path, monkeypatch):
    module = write(tmp_path / "fresh_example.py", APP.format(version=2))
    monkeypatch.syspath_prepend(str(tmp_path))
    return collect.Entry("fresh_example", str(module), True)


EDITS = itertools.count(time.time_ns())


@pytest.fixture(params=["a shared interpreter", "one per request"])
def answer(request, entry):
    """Answer(entry, 0, fallback), whose interpreter is shared by an edit's requests or
    started for each; the shared ones that are left are stopped by their pids."""
    edit = next(EDITS) if request.param == "a shared interpreter" else 0
    yield lambda entry, fallback: fresh.Answer(entry, 0, fallback, lambda: edit)
    if edit:
        stop_shared(edit)


def stop_shared(edit: int) -> None:
    address = os.path.join(shared.directory() or "", f"{edit}.sock")
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as stream:
                if address.encode() in stream.read().split(b"\0"):
                    os.kill(int(pid), signal.SIGKILL)
        except (OSError, ValueError):
            continue


def old_code(environ, start_response):
    start_response("200 OK", [("X-Version", "1")])
    return [b"v1 " + environ["wsgi.input"].read()]


def ask(answer, path="/", body=b""):
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen.update(status=status, headers=dict(headers))

    environ = {
        "REQUEST_METHOD": "POST" if body else "GET", "PATH_INFO": path, "QUERY_STRING": "",
        "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80",
    }  # fmt: skip
    result = answer(environ, start_response)
    try:
        data = b"".join(result)
    finally:
        getattr(result, "close", lambda: None)()
    return seen["status"], seen["headers"], data


def open_descriptors() -> int:
    gc.collect()  # (a watcher left by another test closes its inotify queue when collected)
    return len(os.listdir("/proc/self/fd")) if sys.platform == "linux" else 0


def test_the_new_code_answers_with_the_body_it_was_sent(entry, answer):
    status, headers, body = ask(answer(entry, old_code), body=b"x" * 300_000)
    assert status == "201 Created" and headers["X-Version"] == "2"
    version, method, length, pid = body.decode().split()
    assert (version, method, length) == ("v2", "POST", "300000")
    assert int(pid) != os.getpid()


def test_an_import_that_fails_is_reported_not_answered(tmp_path, monkeypatch, answer):
    write(tmp_path / "broken_example.py", "import not_there_at_all\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    broken = collect.Entry("broken_example", str(tmp_path / "broken_example.py"), True)
    for _ in range(2):  # (a shared one says so to each request)
        with pytest.raises(fresh.ImportFailed, match="not_there_at_all"):
            ask(answer(broken, old_code))


def test_no_interpreter_means_the_old_code_answers(entry, monkeypatch, caplog, answer):
    monkeypatch.setattr(preflight, "python", lambda: None)
    before = open_descriptors()
    with caplog.at_level(logging.WARNING, logger="reloadmw"):
        _, headers, body = ask(answer(entry, old_code), body=b"kept")
    assert (headers["X-Version"], body) == ("1", b"v1 kept")  # the body, whole, again
    assert "could not start a fresh interpreter" in caplog.text
    assert open_descriptors() == before


def test_an_application_that_fails_after_its_headers_cuts_the_answer(entry, answer):
    with pytest.raises(fresh.Gone, match="failed after its headers"):
        ask(answer(entry, old_code), path="/fail")


def test_the_requests_of_one_edit_share_one_interpreter(entry):
    # Before, each held request started its own (474 for 20 edits under load).
    first, second = next(EDITS), next(EDITS)
    try:
        pids = [ask(fresh.Answer(entry, 0, old_code, lambda: first))[2].split()[-1]
                for _ in range(3)]  # fmt: skip
        later = ask(fresh.Answer(entry, 0, old_code, lambda: second))[2].split()[-1]
    finally:
        stop_shared(first)
        stop_shared(second)
    assert len(set(pids)) == 1 and later not in pids


def test_no_shared_interpreter_in_a_directory_that_is_not_private(monkeypatch, tmp_path):
    monkeypatch.setattr("tempfile.gettempdir", lambda: str(tmp_path))
    assert shared.directory() == str(tmp_path / f"reloadmw-{os.getuid()}-{os.getppid()}.fresh")
    os.chmod(shared.directory(), 0o755)  # another user could reach the sockets there
    assert shared.directory() is None


def test_an_edit_since_the_shared_interpreter_imported_gets_a_new_one(entry):
    # A worker that imported a module only after an edit saw no change, so asked for
    # no new interpreter: the edit's interpreter, still running, answered with the code
    # of the edit before (uWSGI's lazy workers, 1 stale first page in 3).
    edit = next(EDITS)
    answer = fresh.Answer(entry, 0, old_code, lambda: edit)
    try:
        version, *_, before = ask(answer)[2].decode().split()
        write(Path(entry.path), APP.format(version=3))
        after = [ask(answer)[2].decode().split() for _ in range(2)]
    finally:
        stop_shared(edit)
    assert version == "v2"
    assert [words[0] for words in after] == ["v3", "v3"]
    assert after[0][-1] != before and after[1][-1] == after[0][-1]  # a new one, shared


def test_an_import_mended_since_it_failed_is_answered(tmp_path, monkeypatch):
    broken = write(tmp_path / "mended_example.py", "import not_there_at_all\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    entry = collect.Entry("mended_example", str(broken), True)
    edit = next(EDITS)
    answer = fresh.Answer(entry, 0, old_code, lambda: edit)
    try:
        with pytest.raises(fresh.ImportFailed, match="not_there_at_all"):
            ask(answer)
        write(broken, APP.format(version=4))
        status, _, body = ask(answer)
    finally:
        stop_shared(edit)
    assert status == "201 Created" and body.startswith(b"v4 ")


def test_a_request_that_finds_every_shared_interpreter_stale_gets_its_own(entry, monkeypatch):
    tried = []

    class Stale(fresh.Frames):  # files that keep changing while each one imports
        def __init__(self, *args, **kwargs):
            tried.append(args)
            read, write = os.pipe()
            os.write(write, b"S" + bytes(8))
            os.close(write)
            self.frames, self.stream, self.limit = os.fdopen(read, "rb", 0), args[3], 1.0

        def ended(self):
            return "ended"

    monkeypatch.setattr(fresh.shared, "Sent", Stale)
    status, _, body = ask(fresh.Answer(entry, 0, old_code, lambda: 1), body=b"kept")
    assert len(tried) == fresh.ATTEMPTS - 1
    assert status == "201 Created" and body.split()[:3] == [b"v2", b"POST", b"4"]
