"""Faults in hooks and configuration: clear log lines and errors, responses untouched."""

from __future__ import annotations

import importlib
import logging
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from webtest import TestApp

from reloadmw import ReloadMiddleware, filter_factory
from reloadmw.options import Options, declarations
from tests.support import write

ENVIRON = {"SERVER_SOFTWARE": "gunicorn/23.0.0"}


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"intact"]


@pytest.fixture
def edited(modules):
    path = modules("faulty_views", "VERSION = 1\n")
    importlib.import_module("faulty_views")
    return path


@pytest.mark.parametrize("error", [OSError("no"), ValueError("bad"), RuntimeError("boom")])
def test_a_hook_that_raises_is_logged_with_its_traceback(edited, caplog_reloadmw, error):
    def hook(changed):
        raise error

    web = TestApp(ReloadMiddleware(app, interval=0, hook=hook))
    write(edited, "VERSION = 22\n")
    assert web.get("/", extra_environ=ENVIRON, expect_errors=True).text == "intact"
    assert web.get("/", extra_environ=ENVIRON).text == "intact"
    [record] = [r for r in caplog_reloadmw.records if r.levelno == logging.ERROR]
    assert "failed; this process keeps running" in record.getMessage()
    assert record.exc_info[1] is error


def test_a_hook_that_blocks_delays_no_other_response(edited):
    entered, release = threading.Event(), threading.Event()

    def hook(changed):
        entered.set()
        release.wait(10)

    middleware = ReloadMiddleware(app, interval=0, hook=hook)
    web = TestApp(middleware)
    web.get("/", extra_environ=ENVIRON)
    write(edited, "VERSION = 22\n")
    finder = threading.Thread(
        target=lambda: web.get("/", extra_environ=ENVIRON, expect_errors=True)
    )
    finder.start()
    try:
        assert entered.wait(10)
        for _ in range(5):  # served at once while the hook blocks
            assert web.get("/", extra_environ=ENVIRON).text == "intact"
    finally:
        release.set()
        finder.join(10)


@pytest.mark.parametrize(
    ("hook", "error", "pattern"),
    [
        (42, TypeError, r"'hook'.*42"),
        ("os:sep", TypeError, r"'os:sep'.*not callable"),
        ("signal:SIGNOPE", ValueError, r"'signal:SIGNOPE'.*no signal"),
        ("signal:SIGBREAK", ValueError, r"'signal:SIGBREAK'.*no signal"),  # Windows only
        ("signal:", ValueError, r"'signal:'"),
        ("", ValueError, r"unknown hook ''"),
        ("nowhere_at_all:restart", ValueError, r"cannot import 'nowhere_at_all:restart'"),
    ],
)
def test_bad_hooks_fail_when_the_app_is_built(hook, error, pattern):
    with pytest.raises(error, match=pattern):
        ReloadMiddleware(app, hook=hook)


# --- the ini parser, fuzzed ----------------------------------------------------------------

SAFE_HOOKS = [
    *("auto", "exit", "gunicorn", "uwsgi", "mod_wsgi", "apache-windows", "bogus"),
    *("signal:SIGTERM", "signal:NOPE", "os:sep", "os:getpid", "no_such_hook_module:x"),
]

OPTION_NAMES = sorted(each.name for each, _ in declarations(Options))
keys = st.one_of(st.sampled_from(OPTION_NAMES), st.text(min_size=1, max_size=12))


def values_for(key: str) -> st.SearchStrategy[str]:
    if key == "hook":  # arbitrary "module:function" text could import anything
        return st.one_of(
            st.sampled_from(SAFE_HOOKS), st.text(max_size=12).filter(lambda v: ":" not in v)
        )
    return st.one_of(
        st.text(max_size=20),
        st.sampled_from(["0", "1", "-1", "nan", "inf", "yes", "off", "2.5", "*.py", "a b"]),
    )


settings_for_fuzz = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@settings_for_fuzz
@given(data=st.data())
def test_any_ini_section_builds_or_names_the_key(tmp_path, data):
    names = data.draw(st.lists(keys, max_size=5, unique=True))
    section = {name: data.draw(values_for(name)) for name in names}
    section.setdefault("enabled", "false")  # keep the fuzz fast: no file scans
    try:
        middleware = filter_factory({"here": str(tmp_path)}, **section)(app)
    except (ValueError, TypeError) as error:
        message = str(error)
        assert any(repr(name) in message for name in section), message
    else:
        assert isinstance(middleware, ReloadMiddleware)
