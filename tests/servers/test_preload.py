"""``reloadmw serve``'s preload template (Linux): restarts fork from a process that has the
libraries imported, and the application they build is the one a fresh interpreter builds."""

from __future__ import annotations

import json
import re
import shutil
import sys

import pytest

from tests import support

pytestmark = [pytest.mark.server, pytest.mark.linux]

#: What a process reports that must not depend on how it began.
SAME = ("project", "threads", "native_threads", "path", "cwd", "env", "quiet")
THREADLIB = """\
import threading, time
threading.Thread(target=time.sleep, args=(3600,), name="threadlib-worker", daemon=True).start()
"""


@pytest.fixture
def site(workdir):
    """tests/apps/preload_app.py as app.py, its two libraries, and version.py."""
    shutil.copy(support.APPS / "preload_app.py", workdir / "app.py")
    packages = workdir / "lib" / "site-packages"
    support.write(packages / "quietlib.py", "VALUE = 1\n")
    support.write(packages / "threadlib.py", THREADLIB)
    support.write(workdir / "version.py", "VERSION = 1\n")
    return packages


@pytest.fixture
def serve(workdir, server_factory, site):
    def start(*flags: str) -> support.Server:
        port = support.free_port()
        env = {"PYTHONPATH": str(site), "PRELOAD_MARK": "marked"}
        argv = [sys.executable, "-m", "reloadmw", "serve", "app.py", "--port", str(port), *flags]
        return server_factory(argv, port=port, cwd=workdir, env=env)

    return start


def seen(server: support.Server) -> dict:
    return json.loads(support.get(server.port).body)


def edit(server: support.Server, workdir, number: int) -> dict:
    """Edit version.py; what the process that then answers saw."""
    support.write(workdir / "version.py", f"VERSION = {number}\n")
    return support.wait_for(
        lambda: (now := seen(server))["version"] == number and now, 20, what=f"version {number}"
    )


def templates_ready(server: support.Server, count: int = 1) -> None:
    support.wait_for(
        lambda: server.log().count("preload template pid") >= count, 60, what="the template"
    )


def restarts(server: support.Server) -> list[str]:
    return re.findall(r"restarted in [\d.]+s .*", server.log())


def test_a_forked_process_builds_the_application_a_fresh_one_builds(workdir, serve):
    server = serve()
    fresh = seen(server)  # the first process starts afresh
    templates_ready(server)
    first, second = edit(server, workdir, 2), edit(server, workdir, 3)
    assert all("(forked from the template" in line for line in restarts(server)), server.log()
    for forked in (first, second):
        assert {key: forked[key] for key in SAME} == {key: fresh[key] for key in SAME}
        assert forked["pid"] != fresh["pid"]
    # Fresh random seeds in every process, and no thread from the template: the same
    # threads as in a fresh process (the library's own thread started in each).
    assert len({fresh["random"], first["random"], second["random"]}) == 3
    assert fresh["threads"] == ["MainThread", "threadlib-worker"]
    print(f"\nforked restarts: {restarts(server)}")


def test_a_library_that_starts_a_thread_is_left_out(workdir, serve):
    server = serve()
    assert seen(server)["preloaded"] == ["json"]  # (reloadmw's own import)
    templates_ready(server)
    forked = edit(server, workdir, 2)
    assert forked["preloaded"] == ["json", "quietlib"]  # threadlib: imported by the app
    assert forked["native_threads"] == seen(server)["native_threads"] == 2


def test_a_changed_library_replaces_the_template(workdir, serve, site):
    server = serve()
    templates_ready(server)
    support.write(site / "quietlib.py", "VALUE = 2\n")  # an upgrade: not watched
    after = edit(server, workdir, 2)
    assert after["quiet"] == 2
    assert restarts(server)[-1].endswith("(a fresh interpreter: the template was not ready)")
    templates_ready(server, 2)  # a new template, with the new library
    again = edit(server, workdir, 3)
    assert again["quiet"] == 2
    assert "(forked from the template" in restarts(server)[-1]


def test_without_preload_every_process_starts_afresh(workdir, serve):
    server = serve("--no-preload")
    fresh = seen(server)
    forked = edit(server, workdir, 2)
    assert forked["preloaded"] == fresh["preloaded"] == ["json"]
    log = server.log()
    assert "preload template" not in log
    assert "forked" not in log
    assert "fresh interpreter" not in log


FRAGILE = """\
import os
CONFIGURED = os.environ.get("FRAGILE_CONFIG")  # read once, at import


def configuration():
    if CONFIGURED is None:
        raise RuntimeError("fragile was imported before the application configured it")
    return CONFIGURED
"""
FRAGILE_APP = """\
import os
os.environ["FRAGILE_CONFIG"] = "configured"
import fragile
import version

VALUE = fragile.configuration()


def application(environ, start_response):
    body = f"{VALUE} {version.VERSION} {os.getpid()}".encode()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]
"""


def test_a_library_that_differs_in_the_template_is_left_out(workdir, serve, site):
    # A library that reads its configuration when imported, which the application sets
    # first: imported by the template, it has none. The forked process cannot import the
    # application; a fresh interpreter takes its place and the library is left out.
    support.write(site / "fragile.py", FRAGILE)
    support.write(workdir / "app.py", FRAGILE_APP)
    server = serve()
    assert support.get(server.port).text.startswith("configured 1 ")
    templates_ready(server)
    for number in (2, 3):
        support.write(workdir / "version.py", f"VERSION = {number}\n", whole=True)
        first = support.get(server.port)
        assert (first.status, first.text.split()[:2]) == (200, ["configured", str(number)])
        if number == 2:  # the supervisor's lines may follow the first answer by a moment
            support.wait_for(lambda: restarts(server), 10, what="the restart line")
            log = server.log()
            assert log.count("fragile left out (a process forked from the template failed") == 1
            assert restarts(server)[-1].endswith(
                "(a fresh interpreter: the forked one failed to import the application)"
            ), log
            templates_ready(server, 2)
    support.wait_for(lambda: len(restarts(server)) == 2, 10, what="the second restart line")
    assert "(forked from the template" in restarts(server)[-1], server.log()
