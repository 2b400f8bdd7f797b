"""A developer's real day under ``reloadmw serve``: bursts of writes, files that go and come
back, a keep-alive client, and Ctrl-C in the middle of a restart."""

from __future__ import annotations

import contextlib
import http.client
import os
import random
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
MODULES = 200

APP = """
import os
{imports}

MODULES = [{names}]


def application(environ, start_response):
    versions = sorted({{m.VERSION for m in MODULES}})
    body = " ".join(map(str, versions)).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Pid", str(os.getpid()))])
    return [body]
"""


def write_tree(workdir, version: int, pause: float = 0.0) -> None:
    for number in range(MODULES):
        support.write(workdir / "pkg" / f"m{number:03}.py", f"VERSION = {version}\n")
        time.sleep(pause)


@pytest.fixture
def tree_app(workdir):
    support.write(workdir / "pkg" / "__init__.py", "")
    write_tree(workdir, 1)
    names = [f"m{n:03}" for n in range(MODULES)]
    support.write(
        workdir / "app.py",
        APP.format(
            imports="\n".join(f"from pkg import {n}" for n in names), names=", ".join(names)
        ),
    )
    return workdir


def serve(workdir, server_factory, *arguments):
    port = support.free_port()
    argv = [sys.executable, "-m", "reloadmw", "serve", "app.py", "--port", str(port), *arguments]
    return server_factory(argv, port=port, cwd=workdir)


def restarts(server) -> int:
    return len(re.findall(r"restarted in", server.log()))


class Poller(threading.Thread):
    """A client asking every 50 ms; it records every answer, or the error."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port, self.answers, self.failures = port, [], []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                self.answers.append(support.get(self.port, timeout=30).text)
            except OSError as error:
                self.failures.append(repr(error))
            time.sleep(0.05)


@pytest.mark.parametrize("server_kind", SERVERS)
def test_a_formatter_rewriting_every_module_costs_one_restart(
    tree_app, server_factory, server_kind
):
    server = serve(tree_app, server_factory, "--server", server_kind)
    poller = Poller(server.port)
    poller.start()
    time.sleep(0.3)
    write_tree(tree_app, 2, pause=1.5 / MODULES)  # 200 modules over 1.5 s
    support.wait_for(lambda: poller.answers and poller.answers[-1] == "2", 15, what="new code")
    time.sleep(0.5)
    poller.done.set()
    poller.join(10)
    mixed = [a for a in poller.answers if " " in a]
    assert (restarts(server), mixed, poller.failures) == (1, [], []), server.log()


@pytest.mark.parametrize("server_kind", SERVERS)
def test_a_module_deleted_then_created_again_is_seen(workdir, server_factory, server_kind):
    version = support.install_versioned_app(workdir, "app.py", None)
    server = serve(workdir, server_factory, "--server", server_kind)
    assert support.get(server.port).headers["X-Version"] == "1"
    version.unlink()
    page = support.get(server.port)
    assert page.status == 500 and "No module named 'version'" in page.text
    support.write(version, "VERSION = 2\n")
    fresh = support.wait_for(
        lambda: (r := support.get(server.port)).headers.get("X-Version") == "2" and r,
        10,
        what="the module, back",
    )
    assert fresh.status == 200


@pytest.mark.parametrize("server_kind", SERVERS)
def test_a_checkout_that_adds_modules_file_by_file(workdir, server_factory, server_kind):
    version = support.install_versioned_app(workdir, "app.py", None)
    server = serve(workdir, server_factory, "--server", server_kind)
    support.get(server.port)
    # version.py now imports five new modules, written one by one after it, 0.3 s apart.
    support.write(version, "".join(f"import added{n}\n" for n in range(5)) + "VERSION = 2\n")
    for number in range(5):
        time.sleep(0.3)
        support.get(server.port)  # a developer's browser, asking meanwhile
        support.write(workdir / f"added{number}.py", "X = 1\n")
    fresh = support.wait_for(
        lambda: (r := support.get(server.port)).headers.get("X-Version") == "2" and r,
        10,
        what=f"the whole checkout\n{server.log()[-2000:]}",
    )
    assert fresh.status == 200


def test_a_keep_alive_client_gets_the_new_code_and_the_old_process_ends(workdir, server_factory):
    version = support.install_versioned_app(workdir, "app.py", None)
    server = serve(workdir, server_factory, "--server", "waitress")
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    answers = []
    try:
        for number in range(40):  # one connection, a request every 50 ms, for 2 s
            if number == 10:
                support.write(version, "VERSION = 2\n")
            connection.request("GET", "/")
            response = connection.getresponse()
            response.read()
            answers.append((response.getheader("X-Version"), response.getheader("X-Pid")))
            time.sleep(0.05)
    finally:
        connection.close()
    assert [v for v, _ in answers[:10]] == ["1"] * 10
    assert [v for v, _ in answers[10:]] == ["2"] * 30
    old = answers[0][1]
    support.wait_for(lambda: f"pid {old} " not in _alive(server), 5, what="the old process's end")
    assert "gave up waiting" not in server.log()


def _alive(server) -> str:
    """The 'pid N ' of every server process still running."""
    pids = re.findall(r"pid (\d+) serving", server.log())
    return " ".join(f"pid {p} " for p in pids if os.path.exists(f"/proc/{p}"))


@pytest.mark.parametrize("seed", range(4))
def test_ctrl_c_in_the_middle_of_a_restart_is_a_clean_stop(workdir, seed):
    version = support.install_versioned_app(workdir, "app.py", None)
    port = support.free_port()
    log = workdir / f"serve-{seed}.log"
    with open(log, "wb") as stream:
        supervisor = subprocess.Popen(
            [sys.executable, "-m", "reloadmw", "serve", "app.py", "--port", str(port)],
            cwd=workdir, stdout=stream, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        support.wait_for(lambda: support.get(port).status == 200, 30, what="reloadmw serve")
        support.write(version, "VERSION = 2\n")
        threading.Thread(target=lambda: _quietly_get(port), daemon=True).start()
        time.sleep(random.Random(seed).uniform(0.03, 0.15))  # the new process is starting
    finally:
        status, took = support.stop_and_time(
            supervisor, lambda: os.killpg(supervisor.pid, signal.SIGINT)
        )
    text = log.read_text()
    assert (status, "Traceback" in text) == (0, False), text
    assert took < 5


def _quietly_get(port: int) -> None:
    with contextlib.suppress(OSError):
        support.get(port, timeout=10)
