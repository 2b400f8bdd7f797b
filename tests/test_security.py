"""No request, whatever it sends, restarts the process, makes reloadmw read a file, or sees
a path or a traceback unless it comes from a loopback address; every page is escaped."""

from __future__ import annotations

import builtins
import html
import importlib
import importlib.util
import io
import ipaddress
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reloadmw import ReloadMiddleware, import_app, pages
from reloadmw.pages import Problem
from tests.support import write

pytestmark = pytest.mark.linux

FUZZ = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

header_names = st.sampled_from(
    ["HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP", "HTTP_HOST", "HTTP_COOKIE",
     "HTTP_REFERER", "HTTP_X_RELOAD", "HTTP_ACCEPT", "HTTP_CLIENT_IP", "HTTP_TRUE_CLIENT_IP"]
)  # fmt: skip
header_values = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["127.0.0.1", "::1", "for=127.0.0.1", "/etc/passwd", "../../app.py",
                     "text/html", "localhost", "0.0.0.0", "127.0.0.1, 10.0.0.1"]),
)  # fmt: skip
requests = st.fixed_dictionaries(
    {
        "REQUEST_METHOD": st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"]),
        "PATH_INFO": st.one_of(st.text(max_size=40), st.sampled_from(["/", "/../../etc/passwd"])),
        "QUERY_STRING": st.text(max_size=40),
        "REMOTE_ADDR": st.one_of(st.ip_addresses().map(str), st.text(max_size=15)),
    }
).flatmap(
    lambda base: st.dictionaries(header_names, header_values, max_size=4).map(
        lambda headers: {**base, **headers}
    )
)


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def send(middleware, environ):
    full = {"SERVER_SOFTWARE": "gunicorn/23.0.0", "wsgi.errors": io.StringIO(), **environ}
    status = []
    result = middleware(full, lambda s, h, exc_info=None: status.append(s))
    body = b"".join(result)
    if hasattr(result, "close"):
        result.close()
    return status[0], body


class FileAccess:
    """Records the paths that open() and os.stat() see."""

    def __init__(self, monkeypatch) -> None:
        self.paths: set[str] = set()
        self.recording = False
        real_open, real_stat = builtins.open, os.stat

        def recording_open(file, *args, **kwargs):
            if self.recording and isinstance(file, (str, os.PathLike)):
                self.paths.add(os.fspath(file))
            return real_open(file, *args, **kwargs)

        def recording_stat(path, *args, dir_fd=None, **kwargs):
            if self.recording and isinstance(path, (str, os.PathLike)):
                where = os.readlink(f"/proc/self/fd/{dir_fd}") if dir_fd is not None else ""
                self.paths.add(os.path.join(where, os.fspath(path)))
            return real_stat(path, *args, dir_fd=dir_fd, **kwargs)

        def recording_os_open(path, *args, **kwargs):
            if self.recording:
                self.paths.add(os.fspath(path))
            return real_os_open(path, *args, **kwargs)

        real_os_open = os.open
        monkeypatch.setattr(builtins, "open", recording_open)
        monkeypatch.setattr(os, "stat", recording_stat)
        monkeypatch.setattr(os, "open", recording_os_open)


@pytest.mark.parametrize("on_change", ["restart", "retry"])
def test_no_request_restarts_or_reads_a_file_it_names(modules, monkeypatch, recorder, on_change):
    path = modules("secure_views", "VERSION = 1\n")
    importlib.import_module("secure_views")
    middleware = ReloadMiddleware(app, interval=0, hook=recorder, on_change=on_change)
    allowed = set(middleware.watched_files)
    allowed |= {importlib.util.cache_from_source(p) for p in allowed if p.endswith(".py")}
    allowed |= {os.path.dirname(p) for p in allowed}  # opened to stat what is inside
    access = FileAccess(monkeypatch)

    @FUZZ
    @given(environ=requests)
    def fuzz(environ):
        access.recording = True
        try:
            status, body = send(middleware, environ)
        finally:
            access.recording = False
        assert (status, body) == ("200 OK", b"ok")

    fuzz()
    assert recorder.calls == []
    assert access.paths <= allowed, access.paths - allowed
    write(path, "VERSION = 22\n")  # the control: a real change does restart
    send(middleware, {"REQUEST_METHOD": "POST", "REMOTE_ADDR": "127.0.0.1"})
    assert recorder.calls == [[str(path)]]


def is_loopback(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


@pytest.fixture
def broken_middleware(modules, recorder):
    path = modules("secure_broken", "VERSION = 1\n")
    importlib.import_module("secure_broken")
    middleware = ReloadMiddleware(app, interval=0, hook=recorder)
    write(path, "VERSION = (  # <script>secret</script>\n")
    send(middleware, {"REQUEST_METHOD": "GET", "REMOTE_ADDR": "127.0.0.1"})  # finds it
    return middleware, path


@FUZZ
@given(environ=requests)
def test_no_remote_request_sees_a_path_or_traceback(broken_middleware, environ):
    middleware, path = broken_middleware
    local = is_loopback(environ["REMOTE_ADDR"]) and all(
        value.strip() in ("127.0.0.1", "::1", "for=127.0.0.1")
        for name, value in environ.items()
        if name in pages.FORWARDING_HEADERS
    )
    status, body = send(middleware, environ)
    if not local:
        assert status.startswith("503")
        assert str(path).encode() not in body
        assert b"secret" not in body
        assert b"line" not in body


def test_import_traceback_stays_local(modules):
    modules("secure_import", "raise RuntimeError('/srv/secret/path.py')\n")
    middleware = import_app("secure_import:application")
    local = send(middleware, {"REQUEST_METHOD": "GET", "REMOTE_ADDR": "127.0.0.1"})
    remote = send(middleware, {"REQUEST_METHOD": "GET", "REMOTE_ADDR": "203.0.113.5"})
    forwarded = send(
        middleware,
        {"REQUEST_METHOD": "GET", "REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "8.8.8.8"},
    )
    assert b"/srv/secret/path.py" in local[1]
    for status, body in (remote, forwarded):
        assert status.startswith("500")
        assert b"secret" not in body
        assert b"Traceback" not in body


markup = st.text(alphabet=st.sampled_from("<>&\"'/ab=\n"), max_size=30) | st.text(max_size=30)


@FUZZ
@given(path=markup, message=markup, text=markup)
def test_diagnostic_pages_escape_everything(path, message, text):
    problem = Problem(path, 1, message, text)
    environ = {"REMOTE_ADDR": "127.0.0.1", "HTTP_ACCEPT": "text/html", "REQUEST_METHOD": "GET"}
    body = b"".join(pages.syntax_error([problem], environ, lambda *a: None)).decode()
    shown = body[body.index("<pre>") + 5 : body.index("</pre>")]
    assert "<" not in shown
    assert html.escape(str(problem)) in shown
