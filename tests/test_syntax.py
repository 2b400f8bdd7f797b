"""The syntax-error guard, and on_change="retry": no restart into broken code, no stale page."""

from __future__ import annotations

import importlib
import logging

import pytest
from webtest import TestApp

from reloadmw import ReloadMiddleware, syntax
from tests.support import write

LOCAL = {"REMOTE_ADDR": "127.0.0.1", "SERVER_SOFTWARE": "gunicorn/23.0.0"}
REMOTE = {"REMOTE_ADDR": "192.0.2.1", "SERVER_SOFTWARE": "gunicorn/23.0.0"}


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"old code"]


@pytest.mark.parametrize(
    ("source", "line", "message"),
    [
        ("def broken(:\n    pass\n", 1, "invalid syntax"),
        ("if True:\nx = 1\n", 2, "expected an indented block"),
        ("x = '\\d'\n", None, None),  # a SyntaxWarning, not an error
        ("x = 1\n", None, None),
    ],
)
def test_problem(tmp_path, source, line, message):
    path = tmp_path / "mod.py"
    path.write_text(source)
    found = syntax.problem(str(path))
    if message is None:
        assert found is None
    else:
        assert (found.line, message in found.message) == (line, True)


def test_only_python_sources_are_compiled(tmp_path):
    template = tmp_path / "page.html"
    template.write_text("def broken(:")
    assert syntax.problems([str(template), str(tmp_path / "gone.py")]) == []


@pytest.fixture
def views(modules):
    path = modules("guarded_views", "VERSION = 1\n")
    importlib.import_module("guarded_views")
    return path


def test_broken_edit_serves_the_diagnostic_and_does_not_restart(views, recorder, caplog_reloadmw):
    web = TestApp(ReloadMiddleware(app, interval=0, hook=recorder))
    assert web.get("/", extra_environ=LOCAL).text == "old code"
    write(views, "VERSION = (\n")
    first = web.get("/", extra_environ=LOCAL)  # this response is the app's; its check finds it
    assert first.text == "old code"
    page = web.get("/", extra_environ=LOCAL, status=500)
    assert f"{views}, line 1" in page.text
    assert "VERSION = (" in page.text
    assert web.get("/", extra_environ=REMOTE, status=503).text.strip() == "Service Unavailable"
    assert recorder.calls == []
    errors = [r.getMessage() for r in caplog_reloadmw.records if r.levelno == logging.ERROR]
    assert len(errors) == 1  # once, however many checks see the same problem
    assert errors[0].startswith(f"not restarting: {views}, line 1")
    write(views, "VERSION = (2,\n)\n")  # fixed
    page = web.get(
        "/", extra_environ=LOCAL, status=503, expect_errors=True
    )  # the check before it finds the fix
    assert page.headers["Retry-After"] == "1"
    assert recorder.calls == [[str(views)]]


def test_syntax_check_off_restarts_into_anything(views, recorder):
    web = TestApp(ReloadMiddleware(app, interval=0, hook=recorder, syntax_check=False))
    write(views, "VERSION = (\n")
    web.get("/", extra_environ=LOCAL, expect_errors=True)
    assert recorder.calls == [[str(views)]]


def test_retry_answers_503_then_restarts(views, recorder):
    web = TestApp(ReloadMiddleware(app, interval=0, hook=recorder, on_change="retry"))
    assert web.get("/", extra_environ=LOCAL).text == "old code"
    write(views, "VERSION = 22\n")
    page = web.get(
        "/", headers={"Accept": "text/html"}, extra_environ=LOCAL, status=503, expect_errors=True
    )
    assert page.headers["Retry-After"] == "1"
    assert 'http-equiv="refresh"' in page.text
    assert recorder.calls == [[str(views)]]


def test_retry_leaves_other_methods_alone(views, recorder):
    web = TestApp(ReloadMiddleware(app, interval=0, hook=recorder, on_change="retry"))
    write(views, "VERSION = 22\n")
    response = web.post("/", extra_environ=LOCAL, expect_errors=True)
    assert response.text == "old code"  # and checked after it
    assert recorder.calls == [[str(views)]]


def test_retry_with_a_broken_edit_explains(views, recorder):
    web = TestApp(ReloadMiddleware(app, interval=0, hook=recorder, on_change="retry"))
    write(views, "VERSION = (\n")
    assert "line 1" in web.get("/", extra_environ=LOCAL, status=500).text
    assert recorder.calls == []


def test_on_change_is_validated():
    with pytest.raises(ValueError, match=r"'on_change'.*'restart', 'retry'.*'later'"):
        ReloadMiddleware(app, on_change="later")
