"""Windows and macOS, proven on Linux: the type checker per platform, and a simulated Windows.

The simulated interpreter (tests/simulated_windows/sitecustomize.py) has the
standard library's names as Windows has them; reloadmw must import there, check
files, restart Apache's embedded mode through ``ap_signal_parent``, and run
``reloadmw serve`` with the Windows way of handing sockets over.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import support

ROOT = Path(__file__).resolve().parent.parent
SIMULATION = Path(__file__).resolve().parent / "simulated_windows"


def simulated_environ(**more: str) -> dict[str, str]:
    """The environment of a process that runs as the simulated Windows interpreter."""
    path = os.pathsep.join([str(SIMULATION), str(ROOT), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, "RELOADMW_SIMULATE": "win32", **more}


def run_simulated(
    arguments: list[str], cwd: Path, **more: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=cwd,
        env=simulated_environ(**more),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("platform", ["linux", "win32", "darwin"])
def test_mypy_strict_is_clean_for(platform):
    if importlib.util.find_spec("mypy") is None:
        pytest.fail("mypy is not installed: bash tests/install.sh installs it")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--platform", platform, "reloadmw"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


IMPORT_EVERYTHING = """
import importlib, json, os, pkgutil, sys
import reloadmw
names = [m.name for m in pkgutil.walk_packages(reloadmw.__path__, "reloadmw.")]
for name in names:
    if name != "reloadmw.__main__":
        importlib.import_module(name)
print(json.dumps({"platform": sys.platform, "os": os.name, "modules": names}))
"""


@pytest.mark.linux
def test_the_simulation_is_windows_where_reloadmw_once_failed(workdir):
    """The simulated interpreter lacks what broke the import on Windows (os.O_NONBLOCK)."""
    probe = "import os, sys; print(sys.platform, os.name, hasattr(os, 'O_NONBLOCK'))"
    result = run_simulated(["-c", probe], workdir)
    assert result.stdout.split() == ["win32", "nt", "False"], result.stderr
    result = run_simulated(["-c", "import fcntl"], workdir)
    assert "ModuleNotFoundError" in result.stderr or "ImportError" in result.stderr


@pytest.mark.linux
def test_every_module_imports_on_simulated_windows(workdir):
    result = run_simulated(["-c", IMPORT_EVERYTHING], workdir)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert (seen["platform"], seen["os"]) == ("win32", "nt")
    every = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in (ROOT / "reloadmw").rglob("*.py")
    }
    assert set(seen["modules"]) | {"reloadmw"} == every


FAKE_LIBHTTPD = r"""
#include <stdio.h>
#include <stdlib.h>
void ap_signal_parent(int type) {
    FILE *events = fopen(getenv("RELOADMW_TEST_EVENTS"), "a");
    fprintf(events, "ap_signal_parent(%d)\n", type);
    fclose(events);
}
"""


@pytest.fixture(scope="module")
def libhttpd_directory(tmp_path_factory):
    """A directory holding a library named ``libhttpd``, as WinDLL("libhttpd") finds it."""
    directory = tmp_path_factory.mktemp("apache-bin")
    support.build_library(FAKE_LIBHTTPD, directory / "libhttpd")
    return directory


@pytest.mark.linux
def test_embedded_mode_on_simulated_windows_restarts_after_the_response(
    workdir, libhttpd_directory
):
    tree = workdir / "tree"
    for number in range(12):  # more than DIR_FD_GROUP files in one directory
        support.write(tree / f"module_{number:02}.py", f"VALUE = {number}\n")
    events = workdir / "events.txt"
    script = SIMULATION / "embedded_mode.py"
    result = run_simulated(
        [str(script), str(tree)],
        workdir,
        RELOADMW_TEST_EVENTS=str(events),
        LD_LIBRARY_PATH=str(libhttpd_directory),
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["platform"] == "win32"
    assert seen["bodies"] == ["response 1", "response 2"]
    assert seen["hook"] == "apache-windows"
    assert seen["backend"] == "stat"
    assert {str(tree / f"module_{n:02}.py") for n in range(12)} <= set(seen["watched"])
    # Nothing before the edit; after it, the restart follows the whole response.
    assert events.read_text().splitlines() == [
        "closed response 1",
        "closed response 2",
        "ap_signal_parent(1)",
    ]
    assert f"change detected in {seen['edited']}" in result.stderr
    assert "via apache-windows" in result.stderr


def server_process_arguments(supervisor_pid: int) -> list[list[str]]:
    """The command lines of the supervisor's server processes (reloadmw.serve.process)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == supervisor_pid and b"reloadmw.serve.process" in argv:
            found.append([part.decode() for part in argv if part])
    return found


@pytest.mark.server
@pytest.mark.linux
@pytest.mark.parametrize(
    ("server_kind", "stop"),
    [("wsgiref", "ctrl-c"), ("waitress", "ctrl-break")],
)
def test_serve_on_simulated_windows(workdir, server_kind, stop):
    """Sockets reach the server process through socket.share; Ctrl-C and Ctrl-Break stop all."""
    version = support.install_versioned_app(workdir, "app.py", None)
    port = support.free_port()
    log = workdir / "serve.log"
    command = [sys.executable, "-m", "reloadmw", "serve", "app.py", "--port", str(port)]
    command += ["--server", server_kind, "--interval", "0.2"]
    with open(log, "wb") as stream:
        supervisor = subprocess.Popen(
            command,
            cwd=workdir,
            env=simulated_environ(),
            stdout=stream,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, as a console's job is
        )
    try:
        first = support.wait_for(
            lambda: (r := support.get(port)).status == 200 and r, 30, what="reloadmw serve"
        )
        assert first.headers["X-Version"] == "1"
        # The Windows way: no descriptor numbers on the server process's command line.
        [arguments] = server_process_arguments(supervisor.pid)
        assert arguments[-1].startswith("{"), arguments
        support.write(version, "VERSION = 2\n")
        time.sleep(0.3)
        support.get(port)  # its check finds the change
        fresh = support.wait_for(
            lambda: (r := support.get(port)).headers["X-Version"] == "2" and r,
            10,
            what="the new code",
        )
        assert fresh.headers["X-Pid"] != first.headers["X-Pid"]
        children = support.wait_for(
            lambda: (
                len(found := re.findall(r"pid (\d+) serving", log.read_text())) == 2
                and [int(p) for p in found]
            ),
            10,
            what="two 'pid N serving' lines",
        )
    finally:
        # A console sends Ctrl-C or Ctrl-Break to every process attached to it.
        key = signal.SIGINT if stop == "ctrl-c" else signal.SIGTTIN
        status, took = support.stop_and_time(supervisor, lambda: os.killpg(supervisor.pid, key))
    text = log.read_text()
    assert status == 0, text
    assert took < 5, took
    assert len(children) == 2, text
    for pid in children:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert "Traceback" not in text, text
