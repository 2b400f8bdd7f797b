"""`reloadmw serve` end to end: a supervisor, its server processes, and what a client sees."""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

from tests import support

pytestmark = pytest.mark.server

SERVERS = ["wsgiref", "waitress"]
HUGE = support.BIG * 16


@pytest.fixture
def serve(workdir, server_factory):
    def start(*arguments: str, port: int | None = None) -> support.Server:
        port = port or support.free_port()
        return server_factory(
            [sys.executable, "-m", "reloadmw", "serve", *arguments, "--port", str(port)],
            port=port,
            cwd=workdir,
        )

    return start


def serving_pids(server: support.Server, at_least: int = 1) -> list[int]:
    """The pids that the supervisor said serve (it may say so just after the first answer)."""

    def said() -> list[int]:
        pids = [int(pid) for pid in re.findall(r"pid (\d+) serving", server.log())]
        return pids if len(pids) >= at_least else []

    return support.wait_for(said, 10, what=f"{at_least} 'pid N serving' lines")


def template_ready(server: support.Server) -> None:
    """Wait until the preload template has imported the libraries (restarts then fork)."""
    support.wait_for(lambda: "preload template pid" in server.log(), 60, what="the template")


def alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie waiting for its reaper does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def slow_download(port: int, path: str, into: list[bytes], pause: float = 0.05) -> None:
    """Read a response a megabyte at a time, slowly, so that it stays in progress."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        chunks = []
        while chunk := response.read(1 << 20):
            chunks.append(chunk)
            time.sleep(pause)
        into.append(b"".join(chunks))
    finally:
        connection.close()


@pytest.mark.parametrize("server_kind", SERVERS)
def test_an_edit_starts_a_fresh_process_and_says_so(workdir, serve, server_kind):
    version = support.install_versioned_app(workdir, "app.py", None)
    server = serve("app.py", "--server", server_kind, "--interval", "0.2")
    before = support.get(server.port)
    assert before.headers["X-Version"] == "1"
    support.write(version, "VERSION = 2\n")
    time.sleep(0.3)
    support.get(server.port)  # its check finds the change
    fresh = support.wait_for(
        lambda: (r := support.get(server.port)).headers["X-Version"] == "2" and r,
        5,
        what="the new code",
    )
    assert fresh.headers["X-Pid"] != before.headers["X-Pid"]
    log = server.log()
    assert f"on http://127.0.0.1:{server.port}/ with {server_kind}" in log
    assert re.search(r"pid \d+ serving, \d+ files? watched in \./\n", log)
    assert re.search(rf"restarted in \d+\.\d+s after a change in {re.escape(str(version))}", log)


@pytest.mark.parametrize("server_kind", SERVERS)
def test_a_64_mb_response_in_progress_arrives_whole(workdir, serve, server_kind):
    version = support.install_versioned_app(workdir, "app.py", None)
    server = serve("app.py", "--server", server_kind, "--interval", "0")
    old_pid = support.get(server.port).headers["X-Pid"]
    template_ready(server)  # the next process is forked from it
    downloaded: list[bytes] = []
    download = threading.Thread(target=slow_download, args=(server.port, "/huge", downloaded))
    download.start()
    time.sleep(0.5)  # the download is in progress
    support.write(version, "VERSION = 2\n")
    support.get(server.port)  # finds the change: the old process hands over and drains
    support.wait_for(
        lambda: support.get(server.port).headers["X-Version"] == "2", 5, what="the new code"
    )
    download.join(60)
    assert downloaded, "the download got no response"
    assert len(downloaded[0]) == len(HUGE)
    assert downloaded[0] == HUGE
    support.wait_for(lambda: not alive(int(old_pid)), 10, what="the old process to exit")
    assert "(forked from the template" in server.log()


@pytest.mark.parametrize("server_kind", SERVERS)
def test_no_connection_is_refused_across_ten_restarts(workdir, serve, server_kind):
    version = support.install_versioned_app(workdir, "app.py", None)
    server = serve("app.py", "--server", server_kind, "--interval", "0")
    template_ready(server)
    failures: list[BaseException] = []
    served = [0]
    stop = threading.Event()

    def client() -> None:
        while not stop.is_set():
            try:
                response = support.get(server.port)
                assert response.status == 200
                served[0] += 1
            except (OSError, http.client.HTTPException, AssertionError) as error:
                failures.append(error)

    clients = [threading.Thread(target=client) for _ in range(4)]
    for thread in clients:
        thread.start()
    try:
        for number in range(2, 12):
            support.write(version, f"VERSION = {number}\n")
            support.wait_for(
                lambda n=number: support.get(server.port).headers["X-Version"] == str(n),
                10,
                what=f"version {number}",
            )
    finally:
        stop.set()
        for thread in clients:
            thread.join(30)
    print(f"\nreloadmw serve {server_kind}: 10 restarts, {served[0]} responses, "
          f"{len(failures)} failures")  # fmt: skip
    assert failures == [], server.log()
    assert len(set(serving_pids(server, at_least=11))) == 11
    assert server.log().count("(forked from the template") == 10


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_stop_ends_every_process_within_5_seconds(workdir, how):
    support.install_versioned_app(workdir, "app.py", None)
    port = support.free_port()
    log = workdir / "serve.log"
    with open(log, "wb") as stream:
        supervisor = subprocess.Popen(
            [sys.executable, "-m", "reloadmw", "serve", "app.py", "--port", str(port)],
            cwd=workdir,
            stdout=stream,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal's job is
        )
    try:
        support.wait_for(lambda: support.get(port).status == 200, 30, what="reloadmw serve")
        # The supervisor prints the line once it reads the report, maybe after the answer.
        found = support.wait_for(
            lambda: re.findall(r"pid (\d+) serving", log.read_text()), 10, what="the pid line"
        )
        [child] = [int(p) for p in found]
    finally:
        if how == "ctrl-c":  # the terminal signals the whole job
            status, took = support.stop_and_time(
                supervisor, lambda: os.killpg(supervisor.pid, signal.SIGINT)
            )
        else:
            status, took = support.stop_and_time(
                supervisor, lambda: supervisor.send_signal(signal.SIGTERM)
            )
    assert took < 5, took
    assert status == 0
    assert not alive(child)
    assert "Traceback" not in log.read_text()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["no_such_module_anywhere:app"], "no module named 'no_such_module_anywhere'"),
        (["app:aplication"], "module 'app' has no 'aplication'"),
        (["missing.py"], "no file"),
        (["config:missing.ini"], "no ini file"),
        (["app.py", "--port", "99999"], "expected a port number"),
        (["app.py", "--interval", "-1"], "'--interval'"),
        (["app.py", "--server", "gunicorn"], "invalid choice: 'gunicorn'"),
        (["app.py", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_input_is_one_line_and_status_2(workdir, arguments, message):
    support.install_versioned_app(workdir, "app.py", None)
    result = subprocess.run(
        [sys.executable, "-m", "reloadmw", "serve", *arguments, "--port", str(support.free_port())]
        if "--port" not in arguments
        else [sys.executable, "-m", "reloadmw", "serve", *arguments],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = [line for line in result.stderr.splitlines() if "error" in line]
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, result.stderr
    assert message in lines[0]


def test_a_port_in_use_is_one_line_and_status_2(workdir):
    support.install_versioned_app(workdir, "app.py", None)
    with __import__("socket").create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "reloadmw", "serve", "app.py", "--port", str(port)],
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(f"reloadmw: error: cannot listen on 127.0.0.1:{port}")
    )


def test_a_broken_edit_shows_the_diagnostic_until_it_compiles(workdir, serve):
    version = support.install_versioned_app(workdir, "app.py", None)
    server = serve("app.py", "--interval", "0")
    pid = support.get(server.port).headers["X-Pid"]
    support.write(version, "VERSION = (\n")
    support.get(server.port)  # its check finds the broken edit
    page = support.get(server.port)
    assert page.status == 500
    assert page.text.splitlines()[2].startswith("version.py, line 1:")  # from the root
    assert support.get(server.port).status == 500
    support.write(version, "VERSION = 3\n")
    support.wait_for(
        lambda: support.get(server.port).headers.get("X-Version") == "3", 5, what="the fix"
    )
    assert support.get(server.port).headers["X-Pid"] != pid


def test_a_failing_import_is_served_and_recovers(workdir, serve):
    version = support.install_versioned_app(workdir, "app.py", None)
    support.write(version, "VERSION = 1 / 0\n")
    server = serve("app.py", "--interval", "0")
    page = support.get(server.port)
    assert page.status == 500
    assert "ZeroDivisionError" in page.text
    # the error page's middleware watches the traceback's files too: not the user's own filter
    assert "builds its own ReloadMiddleware" not in server.log()
    support.write(version, "VERSION = 5\n")
    support.get(server.port)
    support.wait_for(
        lambda: support.get(server.port).headers.get("X-Version") == "5", 5, what="the fix"
    )


def test_an_open_pages_poll_has_no_access_line(workdir, serve):
    support.install_versioned_app(workdir, "app.py", None)
    server = serve("app.py")
    for path in ("/__reloadmw__/poll", "/__reloadmw__/poll?g=1&v=2&b=3", "/after"):
        support.get(server.port, path)
    support.wait_for(lambda: "GET /after HTTP/1.1" in server.log(), 5, what="its access line")
    assert "__reloadmw__/poll" not in server.log()


def test_the_request_that_found_an_edit_has_one_access_line(workdir, serve):
    """The old process hands it to the new one, which logs it: the old one does not."""
    version = support.install_versioned_app(workdir, "app.py", None)
    server = serve("app.py", "--interval", "0")
    support.get(server.port, "/before")
    support.write(version, "VERSION = 2\n")
    assert support.get(server.port, "/found").headers["X-Version"] == "2"
    support.get(server.port, "/after")
    support.wait_for(lambda: "GET /after HTTP/1.1" in server.log(), 5, what="its access line")
    log = server.log()
    assert "restarted in" in log
    assert [log.count(f"GET /{path} HTTP/1.1") for path in ("before", "found", "after")] == [1] * 3


def test_retry_mode_never_serves_a_stale_page(workdir, serve):
    version = support.install_versioned_app(workdir, "app.py", None)
    server = serve("app.py", "--interval", "0", "--on-change", "retry")
    assert support.get(server.port).headers["X-Version"] == "1"
    support.write(version, "VERSION = 2\n")
    retry = support.get(server.port)
    assert retry.status == 503
    assert retry.headers["Retry-After"] == "1"
    fresh = support.wait_for(
        lambda: (r := support.get(server.port)).status == 200 and r, 5, what="the new process"
    )
    assert fresh.headers["X-Version"] == "2"


def test_an_ini_with_its_own_filter_is_not_wrapped_twice(workdir, serve):
    support.install_versioned_app(workdir, "app.py", None)
    (workdir / "site.ini").write_text(
        "[pipeline:main]\npipeline = reload app\n\n[filter:reload]\nuse = egg:reloadmw\n"
        "interval = 0\n\n[app:app]\nuse = call:app:app_factory\n"
    )
    server = serve("config:site.ini", "--live-file", "static/*.css")
    version = workdir / "version.py"
    for number in (2, 3):
        support.write(version, f"VERSION = {number}\n")
        support.get(server.port)
        support.wait_for(
            lambda n=number: support.get(server.port).headers["X-Version"] == str(n), 5,
            what="the new code",
        )  # fmt: skip
    log = server.log()
    assert "via reloadmw serve" in log
    # serve's flags cannot reach the ini's own filter: said once, with what to set instead
    # (--live-file had no effect and said nothing; a Pyramid page never reloaded itself).
    said = [line for line in log.splitlines() if "builds its own ReloadMiddleware" in line]
    assert len(said) == 1, log
    # (--backend agrees with the filter's default on Linux since both are inotify there)
    assert "serve's --live-file do not reach it; set live_files" in said[0]


def test_a_server_process_that_dies_before_serving_ends_the_supervisor(workdir):
    (workdir / "dies.py").write_text("import os\nos._exit(5)\n")
    result = subprocess.run(
        [sys.executable, "-m", "reloadmw", "serve", "dies.py", "--port", str(support.free_port())],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "exited with status 5 before serving" in result.stderr


def test_server_processes_stop_when_the_supervisor_is_gone(workdir, serve):
    """A supervisor killed outright (SIGKILL) leaves no server process serving on."""
    support.install_versioned_app(workdir, "app.py", None)
    server = serve("app.py")
    [child] = serving_pids(server)
    assert server.process is not None
    server.process.kill()
    server.process.wait(10)
    support.wait_for(lambda: not alive(child), 10, what="the server process to stop")


def test_disabled_says_so_and_why(workdir, server_factory):
    support.install_versioned_app(workdir, "app.py", None)
    port = support.free_port()
    server = server_factory(
        [sys.executable, "-m", "reloadmw", "serve", "app.py", "--port", str(port)],
        port=port, cwd=workdir, env={"RELOADMW_DISABLE": "1"},
    )  # fmt: skip
    support.wait_for(lambda: "reloadmw is disabled" in server.log(), 10, what="the line")
    assert "reloadmw is disabled (RELOADMW_DISABLE is set in the environment)" in server.log()
