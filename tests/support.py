"""Helpers for the tests: modules on disk, a fake clock, real servers and HTTP."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import textwrap
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

#: The body of ``/big`` in tests/apps/versioned.py: 4 MB of known bytes.
BIG = bytes(range(256)) * (4 * 1024 * 1024 // 256)

#: Every wait in the tests is bounded by this many seconds, at most.
STARTUP_TIMEOUT = 30.0


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def write(path: Path, text: str) -> Path:
    """Write ``text`` (dedented) and move the mtime past any earlier write.

    Two writes within one tick of the kernel's file clock can get the same
    mtime; tests that mean "an edit" must not depend on that.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    old = path.stat().st_mtime_ns if path.exists() else None
    path.write_text(textwrap.dedent(text))
    path.chmod(0o644)
    if old is not None and path.stat().st_mtime_ns <= old:
        os.utime(path, ns=(old + 1_000_000, old + 1_000_000))
    return path


class ModuleMaker:
    """Writes modules and packages into a directory that is on sys.path."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __call__(self, name: str, source: str = "VALUE = 1\n") -> Path:
        parts = name.split(".")
        directory = self.root.joinpath(*parts[:-1])
        for depth in range(1, len(parts)):
            init = self.root.joinpath(*parts[:depth], "__init__.py")
            if not init.exists():
                write(init, "")
        return write(directory / f"{parts[-1]}.py", source)


class Clock:
    """A monotonic clock that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_executable(name: str) -> str:
    """The path of an executable the test set-up installs; fail (never skip) without it."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: run the README's test command, which installs it")
    return path


def build_library(source: str, library: Path, *flags: str) -> Path:
    """Compile the C ``source`` into the shared library ``library`` with gcc."""
    gcc = require_executable("gcc")
    c_file = library.with_name(library.name + ".c")
    c_file.write_text(source)
    command = [gcc, "-shared", "-fPIC", *flags, "-o", str(library), str(c_file)]
    subprocess.run(command, check=True, timeout=120)
    return library


def stop_and_time(process: subprocess.Popen[bytes], send: Callable[[], None]) -> tuple[int, float]:
    """``send()`` a stop to ``process``; its exit status and the seconds it took to exit.

    Whatever happens, the process is gone afterwards (killed after 10 s).
    """
    started = time.monotonic()
    try:
        send()
        status = process.wait(10)
        return status, time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


@dataclass
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def get(port: int, path: str = "/", timeout: float = 20.0) -> Response:
    """One GET on a fresh connection; the whole body, however long."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Connection": "close"})
        response = connection.getresponse()
        body = response.read()
        return Response(response.status, dict(response.getheaders()), body)
    finally:
        connection.close()


def wait_for(
    predicate: Callable[[], object], timeout: float, interval: float = 0.05, what: str = ""
) -> object:
    """Poll ``predicate`` until it returns something true, for ``timeout`` seconds at most."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            result = predicate()
        except (OSError, http.client.HTTPException) as error:
            last_error = error
        else:
            if result:
                return result
        time.sleep(interval)
    raise AssertionError(
        f"timed out after {timeout}s waiting for {what or predicate}: {last_error}"
    )


def wait_for_workers(ready_dir: Path, count: int, timeout: float = STARTUP_TIMEOUT) -> set[str]:
    """Wait until ``count`` processes have imported tests/apps/versioned.py; their pids."""
    wait_for(lambda: len(os.listdir(ready_dir)) >= count, timeout, what=f"{count} workers")
    return set(os.listdir(ready_dir))


APPS = Path(__file__).parent / "apps"


def install_versioned_app(
    directory: Path, script: str, options: dict[str, object] | None, **settings: object
) -> Path:
    """Copy tests/apps/versioned.py to ``directory/script``; return its version.py.

    ``options`` go to ReloadMiddleware (None: the bare app as ``app_factory``
    only); ``settings`` are more keys of its settings.json (e.g. one_liner).
    """
    ready = directory / "ready"
    ready.mkdir(mode=0o777, exist_ok=True)
    ready.chmod(0o777)  # daemons that run as another user report here too
    config = {"ready_dir": str(ready), **settings}
    if options is not None:
        config["options"] = options
    (directory / "settings.json").write_text(json.dumps(config))
    (directory / "settings.json").chmod(0o644)
    shutil.copy(APPS / "versioned.py", directory / script)
    (directory / script).chmod(0o644)
    return write(directory / "version.py", "VERSION = 1\n")


@dataclass
class EditOutcome:
    """What clients saw around one edit of version.py under a real server."""

    before: Response  # served before the edit
    trigger: Response  # the first response once a check was due: the one that finds it
    in_flight: Response  # a slow request that was in flight during the edit
    fresh: Response  # the first response that ran the new code
    seconds: float  # from the edit to ``fresh``


def edit_and_watch(
    port: int,
    version: Path,
    new: int,
    *,
    interval: float,
    budget: float,
    slow: float = 2.0,
) -> EditOutcome:
    """Edit version.py to ``new`` while a slow request is in flight; follow the restart.

    Checks that every response is complete (``/big`` byte for byte) and that
    the new code is served within ``interval + budget`` seconds of the edit.
    """
    before = get(port)
    in_flight: list[Response] = []
    slow_client = threading.Thread(
        target=lambda: in_flight.append(get(port, f"/slow?seconds={slow}", timeout=slow + 30))
    )
    slow_client.start()
    time.sleep(0.3)  # the slow request is being served now
    write(version, f"VERSION = {new}\n")
    edited = time.monotonic()
    time.sleep(interval)
    trigger = get(port, "/big")
    assert trigger.status == 200 and trigger.body == BIG, "the response that found it is cut"
    fresh = trigger
    while fresh.headers["X-Version"] != str(new):
        if time.monotonic() - edited > interval + budget:
            raise AssertionError(f"no new code {interval + budget}s after the edit")
        time.sleep(0.05)
        fresh = get(port, "/big")
        assert fresh.status == 200 and fresh.body == BIG, "a response after the edit is cut"
    seconds = time.monotonic() - edited
    slow_client.join(slow + 30)
    assert in_flight, "the request in flight got no response"
    assert in_flight[0].status == 200, in_flight[0]
    return EditOutcome(before, trigger, in_flight[0], fresh, seconds)


@dataclass
class LoadReport:
    requests: int = 0
    failures: int = 0  # errors, non-200 answers and cut bodies
    edits: int = 0
    restarts: int = 0  # pids that served, beyond the first
    worst: float = 0.0  # seconds from an edit to the first response with its code

    def __str__(self) -> str:
        return (
            f"requests={self.requests} failures={self.failures} edits={self.edits} "
            f"restarts={self.restarts} worst time to new code={self.worst:.2f}s"
        )


def load_while_editing(
    port: int,
    version: Path,
    *,
    edits: int = 20,
    clients: int = 8,
    interval: float,
    budget: float,
    limit: float = 60.0,
) -> LoadReport:
    """``clients`` threads request without pause while version.py is edited ``edits`` times.

    Each edit waits until a client has seen its code (at most ``interval +
    budget`` seconds), then the next follows. Every 10th request is ``/big``,
    checked byte for byte. Stops after ``limit`` seconds in any case.
    """
    report = LoadReport()
    lock = threading.Lock()
    newest = [1]
    pids: set[str] = set()
    stop = threading.Event()
    started = time.monotonic()

    def client() -> None:
        count = 0
        while not stop.is_set() and time.monotonic() - started < limit:
            count += 1
            path = "/big" if count % 10 == 0 else "/"
            try:
                response = get(port, path, timeout=30)
                ok = response.status == 200 and (path != "/big" or response.body == BIG)
            except (OSError, http.client.HTTPException):
                ok, response = False, None
            with lock:
                report.requests += 1
                report.failures += not ok
                if ok and response is not None:
                    pids.add(response.headers["X-Pid"])
                    newest[0] = max(newest[0], int(response.headers["X-Version"]))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    try:
        for number in range(2, edits + 2):
            write(version, f"VERSION = {number}\n")
            edited = time.monotonic()
            while newest[0] < number:
                waited = time.monotonic() - edited
                if waited > interval + budget or time.monotonic() - started > limit:
                    raise AssertionError(f"edit {number - 1} not served after {waited:.1f}s")
                time.sleep(0.01)
            report.edits += 1
            report.worst = max(report.worst, time.monotonic() - edited)
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    report.restarts = len(pids) - 1
    return report


#: The versioned app behind reloadmw in a PasteDeploy pipeline, with a relative extra file.
PASTE_PIPELINE = """\
[pipeline:main]
pipeline = reload app

[filter:reload]
use = egg:reloadmw
interval = {interval}
extra_files = templates/page.html

[app:app]
use = call:app:app_factory
"""


def template_edit_restarts(
    server: Server, template: Path, old_pids: set[str], interval: float
) -> None:
    """Editing the ini's relative extra file brings a new process, and says why."""
    write(template, "<p>2</p>")
    time.sleep(interval + 0.1)
    wait_for(
        lambda: get(server.port).headers["X-Pid"] not in old_pids,
        interval + 3,
        what="a new process after the template edit",
    )
    assert f"change detected in {template}" in server.log()


class Server:
    """A server process on 127.0.0.1, stopped by its own pid."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        port: int,
        log_dir: Path,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        stop_signal: int = signal.SIGTERM,
        ready_path: str = "/",
    ) -> None:
        self.argv = list(argv)
        self.port = port
        self.cwd = cwd
        self.env = {**os.environ, **(env or {})}
        self.stop_signal = stop_signal
        self.ready_path = ready_path
        self.log_path = log_dir / f"server-{port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.wait_ready()

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT) -> None:
        def ready() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(
                    f"server exited with {self.process.returncode}:\n{self.log()}"
                )
            return get(self.port, self.ready_path, timeout=5).status > 0  # any answer

        wait_for(ready, timeout, what=f"{self.argv[0]} on port {self.port}\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 15.0) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(self.stop_signal)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
