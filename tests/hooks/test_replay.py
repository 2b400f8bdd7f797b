"""mod_wsgi's request replay: reload_required, and its installation in the WSGI script."""

from __future__ import annotations

import importlib
import importlib.util
import io
import logging
import os
import sys

import pytest

from reloadmw import ReloadMiddleware, hooks
from reloadmw.hooks import mod_wsgi
from tests.support import write

DAEMON = {"mod_wsgi.process_group": "site", "mod_wsgi.version": (4, 9, 4)}


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


@pytest.fixture
def script(workdir, monkeypatch):
    """A WSGI script loaded the way mod_wsgi loads one: a module named after a hash."""
    path = write(workdir / "site.wsgi", "application = None\n")
    module = type(sys)("_mod_wsgi_0123456789abcdef")
    module.__file__ = str(path)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return module


def request(middleware, **environ):
    base = {**DAEMON, "wsgi.errors": io.StringIO(), **environ}
    result = middleware(base, lambda *args: None)
    body = b"".join(result)
    if hasattr(result, "close"):
        result.close()
    return body


def test_installed_in_the_script_under_daemon_mode(script):
    middleware = ReloadMiddleware(app, interval=0)
    request(middleware, SCRIPT_FILENAME=script.__file__)
    assert script.reload_required == middleware.reload_required


def test_a_reload_required_of_the_scripts_own_is_chained(script):
    """As mod_wsgi-express's handler has: the request is replayed when either says so."""
    asked = []

    def own(resource):
        asked.append(resource)
        return resource == "script changed"

    script.reload_required = own
    middleware = ReloadMiddleware(app, interval=0)
    request(middleware, SCRIPT_FILENAME=script.__file__)
    chained = script.reload_required
    assert chained is not own
    assert chained("script changed") is True
    assert chained("x") is False
    assert asked == ["script changed", "x"]
    request(ReloadMiddleware(app, interval=0), SCRIPT_FILENAME=script.__file__)
    assert script.reload_required is chained  # a second middleware does not chain again


@pytest.mark.parametrize(
    ("options", "environ"),
    [
        ({"replay": False}, DAEMON),
        ({"hook": "exit"}, DAEMON),
        ({}, {"mod_wsgi.process_group": "", "mod_wsgi.version": (4, 9, 4)}),
        ({}, {"SERVER_SOFTWARE": "gunicorn/23.0.0"}),
    ],
    ids=["replay-off", "other-hook", "embedded-mode", "not-mod_wsgi"],
)
def test_not_installed(script, options, environ):
    middleware = ReloadMiddleware(app, interval=0, **options)
    result = middleware(
        {**environ, "SCRIPT_FILENAME": script.__file__, "wsgi.errors": io.StringIO()},
        lambda *a: None,
    )
    list(result)
    assert "reload_required" not in vars(script)


def test_unknown_script_is_a_debug_line(caplog_reloadmw, workdir):
    request(ReloadMiddleware(app, interval=0), SCRIPT_FILENAME=str(workdir / "elsewhere.wsgi"))
    assert any(
        r.levelno == logging.DEBUG and mod_wsgi.ONE_LINER in r.getMessage()
        for r in caplog_reloadmw.records
    )


def test_reload_required_finds_the_change_before_the_request(
    modules, clock, caplog_reloadmw, capsys
):
    path = modules("replayed_view", "VERSION = 1\n")
    importlib.import_module("replayed_view")
    cached = importlib.util.cache_from_source(str(path))
    middleware = ReloadMiddleware(app, interval=1)
    assert middleware.reload_required("site.wsgi") is False  # not due yet
    write(path, "VERSION = 22\n")
    assert middleware.reload_required("site.wsgi") is False  # still not due
    clock.advance(1)
    assert middleware.reload_required("site.wsgi") is True
    assert middleware.reload_required("site.wsgi") is True  # every later request is replayed
    assert not os.path.exists(cached)
    expected = (
        f"change detected in {path}; restarting pid {os.getpid()} via mod_wsgi reload_required"
    )
    assert capsys.readouterr().err.count(expected) == 1
    assert any(r.getMessage().startswith(expected) for r in caplog_reloadmw.records)


def test_while_replaying_no_check_runs_after_responses(modules, clock, monkeypatch):
    path = modules("replay_only", "VERSION = 1\n")
    importlib.import_module("replay_only")
    hook_calls = []
    monkeypatch.setattr(
        hooks.ModWsgi, "__call__", lambda self, changed: hook_calls.append(changed)
    )
    middleware = ReloadMiddleware(app, interval=1, hook="mod_wsgi")
    assert middleware.reload_required("x") is False  # mod_wsgi calls it before each request
    request(middleware)  # the first request prepares the hook
    write(path, "VERSION = 22\n")
    clock.advance(5)
    result = middleware({**DAEMON, "wsgi.errors": io.StringIO()}, lambda *a: None)
    assert isinstance(result, list)  # the app's own iterable: no check after this response
    assert hook_calls == []
    assert middleware.reload_required("x") is True
