"""ReloadMiddleware: when it checks, what a change does, and what it never does."""

from __future__ import annotations

import importlib
import importlib.util
import io
import logging
import os
import sys
import threading
import time

import pytest
from webtest import TestApp

from reloadmw import ReloadMiddleware, hooks
from tests.support import write

ENVIRON = {"SERVER_SOFTWARE": "gunicorn/23.0.0"}


class Body:
    """A response iterable that records its close() calls."""

    def __init__(self, events=None, chunks=(b"hello ", b"world")):
        self.chunks = list(chunks)
        self.events = events if events is not None else []

    def __iter__(self):
        return iter(self.chunks)

    def close(self):
        self.events.append("app close")


def make_app(events=None, body=None):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return body if body is not None else Body(events)

    return app


def call(middleware, environ=None):
    """Run one request the way a server does: call, iterate, close."""
    headers = []
    result = middleware(
        {**ENVIRON, "wsgi.errors": io.StringIO(), **(environ or {})},
        lambda status, h, exc_info=None: headers.append((status, h)),
    )
    try:
        return b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()


@pytest.fixture
def watched(modules):
    """A module the app has imported, and the path to edit."""
    path = modules("watched_views", "VERSION = 1\n")
    importlib.import_module("watched_views")
    return path


def test_fast_path_returns_the_very_same_iterable(clock):
    body = Body()
    middleware = ReloadMiddleware(make_app(body=body), interval=5)
    call(middleware)  # the first request prepares the hook
    environ = {**ENVIRON, "wsgi.errors": io.StringIO()}
    assert middleware(environ, lambda *a: None) is body


def test_due_check_runs_after_the_app_closes(clock, recorder, watched):
    events = []
    recorder_calls = recorder.calls
    middleware = ReloadMiddleware(
        make_app(events), interval=1, hook=lambda c: (events.append("hook"), recorder(c))
    )
    write(watched, "VERSION = 22\n")
    clock.advance(1)
    environ = {**ENVIRON, "wsgi.errors": io.StringIO()}
    result = middleware(environ, lambda *a: None)
    assert b"".join(result) == b"hello world"
    assert events == []  # nothing happens before the server closes the response
    result.close()
    result.close()  # a second close() changes nothing
    assert events == ["app close", "hook"]
    assert recorder_calls == [[str(watched)]]


def test_no_check_before_the_interval(clock, recorder, watched):
    middleware = ReloadMiddleware(make_app(), interval=10, hook=recorder)
    write(watched, "VERSION = 22\n")
    for _ in range(3):
        clock.advance(3)
        assert call(middleware) == b"hello world"
    assert recorder.calls == []
    clock.advance(1)  # 10 s since creation, which counts as a check
    call(middleware)
    assert recorder.calls == [[str(watched)]]


def test_interval_zero_checks_every_request(recorder, modules):
    path = modules("every_time", "A = 1\n")
    importlib.import_module("every_time")
    middleware = ReloadMiddleware(make_app(), interval=0, hook=recorder)
    call(middleware)
    assert recorder.calls == []
    write(path, "A = 22\n")
    call(middleware)
    assert recorder.calls == [[str(path)]]


def test_hook_fires_once_and_checking_stops(clock, recorder, watched, monkeypatch):
    middleware = ReloadMiddleware(make_app(), interval=0, hook=recorder)
    write(watched, "VERSION = 22\n")
    call(middleware)
    assert len(recorder.calls) == 1
    checks = []
    monkeypatch.setattr(middleware._check.watcher, "check", lambda: checks.append(1) or ["x"])
    write(watched, "VERSION = 333\n")
    for _ in range(3):
        clock.advance(5)
        assert call(middleware) == b"hello world"
    assert (len(recorder.calls), checks) == (1, [])


def test_app_exception_reaches_the_server_and_the_check_still_runs(recorder, watched):
    error = RuntimeError("boom")

    def failing(environ, start_response):
        raise error

    middleware = ReloadMiddleware(failing, interval=0, hook=recorder)
    write(watched, "VERSION = 22\n")
    with pytest.raises(RuntimeError) as info:
        call(middleware)
    assert info.value is error
    assert recorder.calls == [[str(watched)]]


def test_restart_is_logged_and_written_to_wsgi_errors_once(caplog_reloadmw, watched):
    middleware = ReloadMiddleware(make_app(), interval=0, hook=lambda changed: None)
    write(watched, "VERSION = 22\n")
    errors = io.StringIO()
    call(middleware, {"wsgi.errors": errors})
    call(middleware, {"wsgi.errors": errors})
    info = [r.getMessage() for r in caplog_reloadmw.records if r.levelno == logging.INFO]
    expected = f"change detected in {watched}; restarting pid {os.getpid()} via "
    assert [m for m in info if "change detected" in m] == [expected + middleware.hook.name]
    assert errors.getvalue().count(expected) == 1
    assert errors.getvalue().startswith("reloadmw: change detected")


def test_creation_logs_that_this_is_for_development(caplog_reloadmw):
    ReloadMiddleware(make_app())
    [line] = [r.getMessage() for r in caplog_reloadmw.records if r.levelno == logging.INFO]
    assert f"pid {os.getpid()} restarts when its code changes" in line
    assert "development" in line


def test_check_duration_is_logged_at_debug(caplog_reloadmw):
    middleware = ReloadMiddleware(make_app(), interval=0, hook=lambda c: None)
    call(middleware)
    assert any(
        r.levelno == logging.DEBUG and r.getMessage().startswith("checked ")
        for r in caplog_reloadmw.records
    )


def test_stale_bytecode_is_removed_before_the_restart(recorder, modules):
    path = modules("bytecoded", "VERSION = 1\n")
    importlib.import_module("bytecoded")
    cached = importlib.util.cache_from_source(str(path))
    assert os.path.exists(cached)
    middleware = ReloadMiddleware(make_app(), interval=0, hook=recorder)
    stat = path.stat()
    path.write_text("VERSION = 2\n")  # same size ...
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))  # ... and the same second
    call(middleware)
    assert recorder.calls == [[str(path)]]
    assert not os.path.exists(cached)
    del sys.modules["bytecoded"]
    assert importlib.import_module("bytecoded").VERSION == 2


def test_failing_hook_is_logged_and_the_response_is_untouched(caplog_reloadmw, watched):
    def broken(changed):
        raise OSError("cannot restart")

    middleware = ReloadMiddleware(make_app(), interval=0, hook=broken)
    write(watched, "VERSION = 22\n")
    assert call(middleware) == b"hello world"
    [record] = [r for r in caplog_reloadmw.records if r.levelno == logging.ERROR]
    assert "broken" in record.getMessage() and record.exc_info[0] is OSError


def test_failing_check_is_logged_and_the_response_is_untouched(caplog_reloadmw, monkeypatch):
    middleware = ReloadMiddleware(make_app(), interval=0, hook=lambda c: None)

    def broken():
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(middleware._check.watcher, "check", broken)
    assert call(middleware) == b"hello world"
    assert any(r.levelno == logging.ERROR for r in caplog_reloadmw.records)


def test_lazy_import_during_a_request_is_baselined_right_after_it(clock, recorder, modules):
    """Django imports URLconfs and views during the first request."""
    path = modules("lazy_urls", "VERSION = 1\n")

    def app(environ, start_response):
        module = importlib.import_module("lazy_urls")
        start_response("200 OK", [])
        return [b"version %d" % module.VERSION]

    middleware = ReloadMiddleware(app, interval=1, hook=recorder)
    assert call(middleware) == b"version 1"
    assert str(path) in middleware.watched_files  # before any check
    write(path, "VERSION = 2\n")
    clock.advance(1)
    call(middleware)
    assert recorder.calls == [[str(path)]]


def test_extra_files_relative_to_the_current_directory(recorder, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    template = write(tmp_path / "templates" / "index.html", "<h1>1</h1>")
    middleware = ReloadMiddleware(
        make_app(), interval=0, hook=recorder, extra_files=["templates/*.html", "local.ini"]
    )
    assert str(template) in middleware.watched_files
    assert str(tmp_path / "local.ini") in middleware.watched_files
    call(middleware)
    write(template, "<h1>2</h1>")
    call(middleware)
    assert recorder.calls == [[str(template)]]


def test_exclude_keeps_a_file_from_restarting(recorder, modules):
    path = modules("scratch_pad", "A = 1\n")
    importlib.import_module("scratch_pad")
    middleware = ReloadMiddleware(make_app(), interval=0, hook=recorder, exclude=["scratch_*.py"])
    write(path, "A = 22\n")
    call(middleware)
    assert recorder.calls == []


@pytest.mark.parametrize("how", ["option", "variable"])
def test_disabled_is_a_pass_through(how, recorder, watched, monkeypatch, caplog_reloadmw):
    if how == "variable":
        monkeypatch.setenv("RELOADMW_DISABLE", "1")
    body = Body()
    middleware = ReloadMiddleware(
        make_app(body=body), interval=0, hook=recorder, enabled=how != "option"
    )
    assert middleware.options.enabled is False
    write(watched, "VERSION = 22\n")
    environ = {**ENVIRON, "wsgi.errors": io.StringIO()}
    assert middleware(environ, lambda *a: None) is body
    assert call(middleware) == b"hello world"
    assert recorder.calls == []
    assert middleware.watched_files == []
    assert not [r for r in caplog_reloadmw.records if r.levelno >= logging.INFO]


def test_disable_variable_zero_keeps_it_enabled(monkeypatch):
    monkeypatch.setenv("RELOADMW_DISABLE", "0")
    assert ReloadMiddleware(make_app()).options.enabled is True


def test_auto_hook_is_chosen_at_the_first_request(caplog_reloadmw):
    middleware = ReloadMiddleware(make_app(), interval=60)
    assert middleware.hook is None
    call(middleware, {"SERVER_SOFTWARE": "gunicorn/23.0.0"})
    assert isinstance(middleware.hook, hooks.Gunicorn)
    call(middleware, {"SERVER_SOFTWARE": "WSGIServer/0.2"})
    assert isinstance(middleware.hook, hooks.Gunicorn)


def test_unknown_server_warns_once_about_exit(caplog_reloadmw):
    middleware = ReloadMiddleware(make_app(), interval=0, hook="auto")
    for _ in range(3):
        call(middleware, {"SERVER_SOFTWARE": "WSGIServer/0.2"})
    warnings = [r for r in caplog_reloadmw.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "reloadmw serve" in warnings[0].getMessage()
    assert isinstance(middleware.hook, hooks.Exit)


def test_mod_wsgi_embedded_mode_warns_once_and_never_checks(caplog_reloadmw, watched, monkeypatch):
    middleware = ReloadMiddleware(make_app(), interval=0)
    checks = []
    monkeypatch.setattr(middleware._check.watcher, "check", lambda: checks.append(1) or [])
    write(watched, "VERSION = 22\n")
    for _ in range(3):
        assert call(middleware, {"mod_wsgi.process_group": "", "mod_wsgi.version": (4, 9)}) == (
            b"hello world"
        )
    warnings = [r for r in caplog_reloadmw.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "embedded mode" in warnings[0].getMessage()
    assert checks == []


def test_webtest_lint_passes_with_and_without_a_due_check(clock, recorder):
    app = TestApp(ReloadMiddleware(make_app(), interval=1, hook=recorder), lint=True)
    assert app.get("/", extra_environ=ENVIRON).body == b"hello world"  # prepares the hook
    assert app.get("/", extra_environ=ENVIRON).body == b"hello world"  # fast path
    clock.advance(1)
    assert app.get("/", extra_environ=ENVIRON).body == b"hello world"  # check after close


def test_a_request_never_waits_for_a_running_check(recorder, watched):
    entered, release = threading.Event(), threading.Event()

    def slow_hook(changed):
        entered.set()
        release.wait(10)

    middleware = ReloadMiddleware(make_app(), interval=0, hook=slow_hook)
    call(middleware)  # prepare
    write(watched, "VERSION = 22\n")
    checker = threading.Thread(target=call, args=(middleware,))
    checker.start()
    try:
        assert entered.wait(10)
        results = []
        other = threading.Thread(target=lambda: results.append(call(middleware)))
        other.start()
        other.join(5)
        assert results == [b"hello world"]  # served while the check holds the lock
    finally:
        release.set()
        checker.join(10)


def test_threads_importing_and_requesting_fire_the_hook_exactly_once(modules, workdir):
    """32 request threads, one thread importing new modules, one watched file that changes."""
    watched_file = write(workdir / "settings.ini", "[app]\n")
    fired = []
    errors = []
    middleware = ReloadMiddleware(
        make_app(),
        interval=0,
        hook=lambda changed: fired.append(changed),
        extra_files=[str(watched_file)],
    )
    for number in range(60):
        modules(f"threaded_mod_{number}", f"N = {number}\n")
    stop = threading.Event()
    barrier = threading.Barrier(34)

    def requester():
        barrier.wait()
        try:
            for _ in range(200):
                assert call(middleware) == b"hello world"
                if stop.is_set():
                    return
        except BaseException as error:  # any escape fails the test
            errors.append(error)

    def importer():
        barrier.wait()
        try:
            for number in range(60):
                importlib.import_module(f"threaded_mod_{number}")
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=requester) for _ in range(32)]
    threads.append(threading.Thread(target=importer))
    for thread in threads:
        thread.start()
    barrier.wait()
    write(watched_file, "[app]\nchanged = yes\n")
    threads[-1].join(30)
    stop.set()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    # The threads may all have stopped before a check came after the write: requests go on
    # until the hook fired (the change settles for 0.2 s first), and a few after it.
    deadline = time.monotonic() + 10
    while not fired and time.monotonic() < deadline:
        assert call(middleware) == b"hello world"
        time.sleep(0.02)
    for _ in range(5):
        assert call(middleware) == b"hello world"
    assert fired == [[str(watched_file)]]


def test_a_hook_that_cannot_answer_with_the_new_code_says_so_once(recorder, caplog_reloadmw):
    middleware = ReloadMiddleware(make_app(), interval=0, hook=recorder)
    for _ in range(3):
        call(middleware)
    said = [r.getMessage() for r in caplog_reloadmw.records if "old code" in r.getMessage()]
    assert len(said) == 1
    assert "on_change='retry' answers it with a page that reloads itself" in said[0]
    caplog_reloadmw.clear()
    call(ReloadMiddleware(make_app(), interval=0, hook=recorder, on_change="retry"))
    assert not [r for r in caplog_reloadmw.records if "old code" in r.getMessage()]
