"""PEP 3333 corners: with a check due or not, the client gets the application's bytes,
the application's close() runs exactly once, and a change found meanwhile fires the hook."""

from __future__ import annotations

import contextlib
import importlib
import io
import sys
from wsgiref.util import FileWrapper, setup_testing_defaults
from wsgiref.validate import validator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from webtest import TestApp

from reloadmw import ReloadMiddleware
from tests.support import write


class Server:
    """Just enough of a WSGI server: start_response, write(), iteration, close()."""

    def __init__(self, stop_after: int | None = None) -> None:
        self.stop_after = stop_after  # chunks read before the client "disconnects"
        self.status: str | None = None
        self.body = bytearray()

    def start_response(self, status, headers, exc_info=None):
        if exc_info is not None and self.body:
            raise exc_info[1].with_traceback(exc_info[2])
        self.status = status
        return self.body.extend

    def __call__(self, app, **extra):
        environ = {"SERVER_SOFTWARE": "gunicorn/23.0.0", "wsgi.file_wrapper": FileWrapper}
        setup_testing_defaults(environ)
        environ.update(extra)
        result = app(environ, self.start_response)
        try:
            for number, chunk in enumerate(result):
                if self.stop_after is not None and number >= self.stop_after:
                    break  # the client went away
                self.body.extend(chunk)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return bytes(self.body)


class Closing:
    """An iterable that counts its close() calls."""

    def __init__(self, chunks, fail_at: int | None = None) -> None:
        self.chunks = list(chunks)
        self.fail_at = fail_at
        self.closed = 0

    def __iter__(self):
        for number, chunk in enumerate(self.chunks):
            if number == self.fail_at:
                raise RuntimeError("halfway")
            yield chunk

    def close(self):
        self.closed += 1


@pytest.fixture(params=["no-check-due", "check-due"])
def due(request):
    return request.param == "check-due"


@pytest.fixture
def changed_module(modules):
    path = modules("corner_views", "VERSION = 1\n")
    importlib.import_module("corner_views")
    return path


def wrap(app, due, recorder):
    # settle=0: every example is one edit, made before the check; nothing to wait for.
    middleware = ReloadMiddleware(app, interval=0 if due else 3600, hook=recorder, settle=0)
    with contextlib.suppress(Exception):
        Server()(middleware)  # the first request prepares the hook
    return middleware


def expect_hook(recorder, due, path):
    assert recorder.calls == ([[str(path)]] if due else [])


def test_iterable_without_close(due, recorder, changed_module):
    def app(environ, start_response):
        start_response("200 OK", [])
        return (b"a", b"b")

    middleware = wrap(app, due, recorder)
    write(changed_module, "VERSION = 22\n")
    assert Server()(middleware) == b"ab"
    expect_hook(recorder, due, changed_module)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(chunks=st.lists(st.binary(max_size=64), min_size=1, max_size=8), data=st.data())
def test_generator_that_raises_halfway(due, recorder, changed_module, chunks, data):
    fail_at = data.draw(st.integers(0, len(chunks) - 1))
    bodies: list[Closing] = []

    def app(environ, start_response):
        start_response("200 OK", [])
        bodies.append(Closing(chunks, fail_at))
        return bodies[-1]

    recorder.calls.clear()
    middleware = wrap(app, due, recorder)
    write(changed_module, f"VERSION = {len(chunks) + 100}\n")
    server = Server()
    with pytest.raises(RuntimeError, match="halfway"):
        server(middleware)
    assert bytes(server.body) == b"".join(chunks[:fail_at])
    assert bodies[-1].closed == 1  # the server's close(), once
    assert len(recorder.calls) == (1 if due else 0)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(chunks=st.lists(st.binary(min_size=1, max_size=64), min_size=1, max_size=8), data=st.data())
def test_client_disconnects_mid_body(due, recorder, changed_module, chunks, data):
    stop_after = data.draw(st.integers(0, len(chunks)))
    body = Closing(chunks)

    def app(environ, start_response):
        start_response("200 OK", [])
        return body

    recorder.calls.clear()
    middleware = wrap(app, due, recorder)
    body.closed = 0
    write(changed_module, f"VERSION = {len(chunks) + 1000}\n")
    assert Server(stop_after)(middleware) == b"".join(chunks[:stop_after])
    assert body.closed == 1
    assert len(recorder.calls) == (1 if due else 0)


def test_start_response_with_exc_info(due, recorder, changed_module):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise ValueError("before any output")
        except ValueError:
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")],
                           sys.exc_info())  # fmt: skip
        return [b"error page"]

    middleware = wrap(app, due, recorder)
    write(changed_module, "VERSION = 22\n")
    server = Server()
    assert server(middleware) == b"error page"
    assert server.status == "500 Internal Server Error"
    expect_hook(recorder, due, changed_module)


def test_legacy_write_callable(due, recorder, changed_module):
    def app(environ, start_response):
        write_body = start_response("200 OK", [])
        write_body(b"written ")
        return [b"returned"]

    middleware = wrap(app, due, recorder)
    write(changed_module, "VERSION = 22\n")
    assert Server()(middleware) == b"written returned"
    expect_hook(recorder, due, changed_module)


def test_file_wrapper_response(due, recorder, changed_module, tmp_path):
    data = bytes(range(256)) * 100
    (tmp_path / "blob").write_bytes(data)
    opened = []

    def app(environ, start_response):
        start_response("200 OK", [("Content-Length", str(len(data)))])
        stream = open(tmp_path / "blob", "rb")  # noqa: SIM115 - the wrapper closes it
        opened.append(stream)
        return environ["wsgi.file_wrapper"](stream, 4096)

    middleware = wrap(app, due, recorder)
    opened.clear()
    write(changed_module, "VERSION = 22\n")
    environ = {"SERVER_SOFTWARE": "gunicorn/23.0.0", "wsgi.file_wrapper": FileWrapper}
    setup_testing_defaults(environ)
    if not due:  # the server gets the wrapper itself and may send the file its own way
        result = middleware(environ, lambda *a: None)
        assert isinstance(result, FileWrapper)
        result.close()
    assert Server()(middleware) == data
    assert all(stream.closed for stream in opened)
    expect_hook(recorder, due, changed_module)


def test_app_that_raises_before_returning(due, recorder, changed_module):
    error = KeyError("no such page")

    def app(environ, start_response):
        raise error

    middleware = wrap(app, due, recorder)
    write(changed_module, "VERSION = 22\n")
    with pytest.raises(KeyError) as info:
        Server()(middleware)
    assert info.value is error
    expect_hook(recorder, due, changed_module)


@pytest.mark.parametrize("shape", ["list", "generator", "closing", "write"])
def test_wsgiref_validate_around_the_middleware(due, recorder, changed_module, shape):
    def app(environ, start_response):
        write_body = start_response("200 OK", [("Content-Type", "text/plain")])
        if shape == "write":
            write_body(b"w")
            return [b"x"]
        if shape == "generator":
            return (chunk for chunk in [b"x", b"y"])
        if shape == "closing":
            return Closing([b"x"])
        return [b"x"]

    outer = validator(ReloadMiddleware(validator(app), interval=0 if due else 3600, hook=recorder))
    environ: dict = {
        "SERVER_SOFTWARE": "gunicorn/23.0.0",
        "QUERY_STRING": "",
        "wsgi.errors": io.StringIO(),
    }
    setup_testing_defaults(environ)
    body: list[bytes] = []

    def start_response(status, headers, exc_info=None):
        return body.append

    for _ in range(2):
        result = outer(dict(environ), start_response)
        body.extend(result)
        result.close()
    write(changed_module, "VERSION = 22\n")
    result = outer(dict(environ), start_response)
    body.extend(result)
    result.close()
    assert (
        b"".join(body)
        == (b"wx" if shape == "write" else b"x" if shape != "generator" else b"xy") * 3
    )
    expect_hook(recorder, due, changed_module)
    lint = TestApp(ReloadMiddleware(app, interval=0 if due else 3600, hook=recorder), lint=True)
    assert lint.get("/", extra_environ={"SERVER_SOFTWARE": "gunicorn/23.0.0"}).status_int == 200
