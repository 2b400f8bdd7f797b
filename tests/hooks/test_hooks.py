"""Restart hooks: names, auto-detection, and what each one does to a process."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import types
from pathlib import Path

import pytest

from reloadmw import hooks
from tests.support import build_library

pytestmark = pytest.mark.posix

PID = os.getpid()


def warnings_of(caplog):
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


@pytest.mark.parametrize(
    ("spec", "kind", "name"),
    [
        ("mod_wsgi", hooks.ModWsgi, "mod_wsgi"),
        ("apache-windows", hooks.ApacheSignalParent, "apache-windows"),
        ("gunicorn", hooks.Gunicorn, "gunicorn"),
        ("uwsgi", hooks.Uwsgi, "uwsgi"),
        ("exit", hooks.Exit, "exit"),
        ("signal:SIGTERM", hooks.SendSignal, "signal:SIGTERM"),
        ("signal:hup", hooks.SendSignal, "signal:SIGHUP"),
        ("os:getpid", hooks.CallableHook, "posix:getpid"),
    ],
)
def test_resolve_named_hooks(spec, kind, name):
    hook = hooks.resolve(spec)
    assert isinstance(hook, kind)
    assert hook.name == name


def test_resolve_auto_and_objects():
    assert hooks.resolve("auto") is None
    given = hooks.Exit()
    assert hooks.resolve(given) is given
    assert isinstance(hooks.resolve(hooks.Gunicorn), hooks.Gunicorn)

    def restart(changed):
        pass

    hook = hooks.resolve(restart)
    assert isinstance(hook, hooks.CallableHook)
    assert hook.name.endswith("test_resolve_auto_and_objects.<locals>.restart")


def test_unknown_hook_lists_the_choices():
    with pytest.raises(ValueError, match="unknown hook") as info:
        hooks.resolve("apache")
    message = str(info.value)
    assert "'apache'" in message
    for name in ("auto", *hooks.HOOK_NAMES, "signal:NAME", "package.module:function"):
        assert name in message


def test_dotted_hook_that_is_not_callable():
    with pytest.raises(TypeError, match=r"'os:sep'.*not callable"):
        hooks.resolve("os:sep")


def test_apache_signal_parent_arguments_are_checked():
    with pytest.raises(ValueError, match=r"signal_type.*got 3"):
        hooks.ApacheSignalParent(signal_type=3)
    with pytest.raises(TypeError, match=r"library.*got ''"):
        hooks.ApacheSignalParent(library="")


# --- auto ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "kind"),
    [
        ({"mod_wsgi.process_group": "site", "mod_wsgi.version": (4, 9, 4)}, hooks.ModWsgi),
        ({"mod_wsgi.process_group": "", "mod_wsgi.version": (4, 9, 4)}, hooks.ModWsgi),
        ({"SERVER_SOFTWARE": "gunicorn/23.0.0"}, hooks.Gunicorn),
        ({"SERVER_SOFTWARE": "custom", "gunicorn.socket": object()}, hooks.Gunicorn),
        ({"uwsgi.version": b"2.0.28", "uwsgi.node": b"host"}, hooks.Uwsgi),
        ({"SERVER_SOFTWARE": "waitress", "waitress.client_disconnected": None}, hooks.NoRestart),
        ({"SERVER_SOFTWARE": "WSGIServer/0.2"}, hooks.Exit),
        ({}, hooks.Exit),
    ],
)
def test_detect(environ, kind):
    assert type(hooks.detect(environ)) is kind


def test_detect_windows_embedded_mode(monkeypatch):
    monkeypatch.setattr(sys, "platform", "win32")
    hook = hooks.detect({"mod_wsgi.process_group": "", "mod_wsgi.version": (4, 9, 4)})
    assert isinstance(hook, hooks.ApacheSignalParent)
    assert (hook.library, hook.signal_type) == ("libhttpd", 1)


def test_detect_unknown_server_warns_that_a_supervisor_must_restart(caplog):
    hooks.detect({"SERVER_SOFTWARE": "SomeServer/1.0"})
    [message] = warnings_of(caplog)
    assert "SomeServer/1.0" in message and "status 3" in message and "supervisor" in message


def test_detect_wsgiref_names_it_and_what_to_do(caplog):
    hooks.detect({"SERVER_SOFTWARE": "WSGIServer/0.2"})
    [message] = warnings_of(caplog)
    assert "wsgiref server" in message and "`reloadmw serve`" in message
    assert "status 3" in message


def test_mod_wsgi_embedded_mode_warns_and_refuses(caplog):
    hook = hooks.ModWsgi()
    assert hook.prepare({"mod_wsgi.process_group": ""}, app=hooks.AppInfo(PID)) is False
    [message] = warnings_of(caplog)
    assert "embedded mode" in message and "daemon mode" in message
    assert hook.prepare({"mod_wsgi.process_group": "site"}, app=hooks.AppInfo(PID)) is True


def test_gunicorn_preload_warns(caplog):
    hook = hooks.Gunicorn()
    assert hook.prepare({}, app=hooks.AppInfo(PID)) is True
    assert warnings_of(caplog) == []
    assert hook.prepare({}, app=hooks.AppInfo(PID + 1)) is False  # never checks: no loop
    [message] = warnings_of(caplog)
    assert "--preload" in message and "old code" in message and "will not restart" in message


def test_waitress_never_restarts(caplog):
    hook = hooks.detect({"SERVER_SOFTWARE": "waitress"})
    assert hook.prepare({}, app=hooks.AppInfo(PID)) is False
    assert "waitress" in warnings_of(caplog)[0]


def test_uwsgi_without_its_module_refuses(caplog, monkeypatch):
    monkeypatch.delitem(sys.modules, "uwsgi", raising=False)
    assert hooks.Uwsgi().prepare({}, app=hooks.AppInfo(PID)) is False
    assert "uwsgi" in warnings_of(caplog)[0]


def test_uwsgi_reloads_the_server_when_the_app_was_built_in_the_master(monkeypatch):
    calls = []
    workers = [{"pid": os.getpid(), "status": b"busy"}, {"pid": PID + 2, "status": b"idle"}]
    uwsgi = types.SimpleNamespace(reload=lambda: calls.append(1), workers=lambda: workers)
    monkeypatch.setitem(sys.modules, "uwsgi", uwsgi)
    hook = hooks.Uwsgi()
    assert hook.prepare({}, app=hooks.AppInfo(PID + 1)) is True
    hook(["x.py"])
    assert calls == [1]  # at once: the only busy worker is this one
    hook([])  # a sibling's change: that worker's reload replaces this one too
    assert calls == [1]


# --- what the hooks do to a real process --------------------------------------------------

RECEIVER = """
import os, signal, sys, types
received = []
for name in ("SIGINT", "SIGTERM", "SIGHUP"):
    signal.signal(getattr(signal, name), lambda n, f: received.append(signal.Signals(n).name))
sys.modules["uwsgi"] = types.SimpleNamespace(workers=lambda: [])
from reloadmw import hooks
hook = hooks.resolve(sys.argv[1])
assert hook.prepare({"mod_wsgi.process_group": "g"}, app=hooks.AppInfo()) is not False
hook(["changed.py"])
print(" ".join(received) or "nothing", flush=True)
"""


@pytest.mark.parametrize(
    ("spec", "signal_name"),
    [
        ("mod_wsgi", "SIGINT"),
        ("uwsgi", "SIGHUP"),
        ("signal:SIGTERM", "SIGTERM"),
        ("signal:SIGHUP", "SIGHUP"),
    ],
)
def test_signal_hooks_signal_their_own_process(spec, signal_name):
    result = subprocess.run(
        [sys.executable, "-c", RECEIVER, spec],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [signal_name]


def run_arbiter(*worker_pids):
    script = Path(__file__).parent.parent / "apps" / "fake_arbiter.py"
    result = subprocess.run(
        [sys.executable, str(script), *map(str, worker_pids)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_gunicorn_hook_asks_the_arbiter_to_replace_all_workers_once():
    """Two old workers find the same change: the arbiter gets one SIGHUP, not two."""
    assert run_arbiter(0, 0) == ["worker nothing", "worker nothing", "arbiter SIGHUP"]


def test_gunicorn_hook_under_preload_sends_nothing():
    assert run_arbiter(1) == ["worker nothing", "arbiter nothing"]


def test_exit_hook_exits_with_status_3():
    result = subprocess.run(
        [sys.executable, "-c", "from reloadmw import hooks; hooks.Exit()([]); print('alive')"],
        capture_output=True,
        timeout=30,
    )
    assert (result.returncode, result.stdout) == (3, b"")


# --- Windows: ap_signal_parent through ctypes, against a library compiled here ------------

FAKE_HTTPD = r"""
int reloadmw_calls = 0;
int reloadmw_last_type = -1;
void ap_signal_parent(int type) { reloadmw_calls++; reloadmw_last_type = type; }
"""


@pytest.fixture(scope="module")
def fake_libhttpd(tmp_path_factory):
    return build_library(FAKE_HTTPD, tmp_path_factory.mktemp("httpd") / "libfakehttpd.so")


def counters(library):
    loaded = ctypes.CDLL(os.fspath(library))
    return (
        ctypes.c_int.in_dll(loaded, "reloadmw_calls").value,
        ctypes.c_int.in_dll(loaded, "reloadmw_last_type").value,
    )


@pytest.mark.parametrize("signal_type", [1, 2])
def test_apache_signal_parent_calls_ap_signal_parent(fake_libhttpd, signal_type):
    before, _ = counters(fake_libhttpd)
    hook = hooks.ApacheSignalParent(library=fake_libhttpd, signal_type=signal_type)
    assert hook.prepare({}, app=hooks.AppInfo(PID)) is True
    hook(["changed.py"])
    assert counters(fake_libhttpd) == (before + 1, signal_type)


def test_apache_signal_parent_without_the_library_warns_and_refuses(caplog, tmp_path):
    hook = hooks.ApacheSignalParent(library=tmp_path / "missing-libhttpd.so")
    assert hook.prepare({}, app=hooks.AppInfo(PID)) is False
    [message] = warnings_of(caplog)
    assert "missing-libhttpd.so" in message and "will not restart" in message
    with pytest.raises(OSError, match=r"missing-libhttpd\.so"):
        hook(["x.py"])


def test_apache_signal_parent_library_without_the_function(fake_libhttpd, tmp_path, caplog):
    library = build_library("int nothing_here = 0;\n", tmp_path / "libempty.so")
    assert hooks.ApacheSignalParent(library=library).prepare({}, app=hooks.AppInfo(PID)) is False
    assert "has no function ap_signal_parent" in warnings_of(caplog)[0]


def test_signal_names_are_upper_cased_and_prefixed():
    assert hooks.resolve("signal:term").signum == signal.SIGTERM
