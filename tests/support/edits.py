"""Edits under a real server: the versioned test app, and what clients see around an edit."""

from __future__ import annotations

import hashlib
import http.client
import json
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .files import write
from .network import Response, get, wait_for
from .processes import Server

#: The body of ``/big`` in tests/apps/versioned.py: 4 MB of known bytes.
BIG = bytes(range(256)) * (4 * 1024 * 1024 // 256)

APPS = Path(__file__).resolve().parent.parent / "apps"


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
    stale: int = 0  # answers from code older than an answer received before the request
    edits: int = 0
    restarts: int = 0  # pids that served, beyond the first
    worst: float = 0.0  # seconds from an edit to the first response with its code
    errors: list[str] = field(default_factory=list)  # the first few failures, as seen

    def __str__(self) -> str:
        return (
            f"requests={self.requests} failures={self.failures} stale={self.stale} "
            f"edits={self.edits} errors={self.errors[:5]} "
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
    pause: float = 0.0,
) -> LoadReport:
    """``clients`` threads request without pause while version.py is edited ``edits`` times.

    Each edit waits until a client has seen its code (at most ``interval +
    budget`` seconds), then the next follows. Every 10th request is ``/big``,
    checked byte for byte. Stops after ``limit`` seconds in any case. With
    ``pause``, the next edit waits that long after a client saw the last one (a
    developer reads the page), so no worker is still importing the last edit
    when the next is written. Each edit replaces the file whole: old workers
    answer from fresh interpreters until they are replaced, seconds under this
    load, and one that imported version.py in the instant an in-place write had
    emptied it would fail in the application's own code (as under any reloader).
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
            with lock:
                seen = newest[0]  # a check has found this version already
            error = ""
            try:
                response = get(port, path, timeout=30)
                ok = response.status == 200 and (path != "/big" or response.body == BIG)
                error = "" if ok else f"{path}: {response.status}, {len(response.body)} bytes"
            except (OSError, http.client.HTTPException) as problem:
                ok, response, error = False, None, f"{path}: {problem!r}"
            with lock:
                report.requests += 1
                report.failures += not ok
                if error:
                    report.errors.append(error)
                if ok and response is not None:
                    pids.add(response.headers["X-Pid"])
                    answered = int(response.headers["X-Version"])
                    if answered < seen:
                        report.stale += 1
                        pid = response.headers["X-Pid"]
                        report.errors.append(f"{path}: version {answered} < {seen} from {pid}")
                    newest[0] = max(newest[0], answered)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    try:
        for number in range(2, edits + 2):
            write(version, f"VERSION = {number}\n", whole=True)
            edited = time.monotonic()
            while newest[0] < number:
                waited = time.monotonic() - edited
                if waited > interval + budget or time.monotonic() - started > limit:
                    raise AssertionError(f"edit {number - 1} not served after {waited:.1f}s")
                time.sleep(0.01)
            report.edits += 1
            report.worst = max(report.worst, time.monotonic() - edited)
            time.sleep(pause)
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


def echo(port: int, body: bytes | list[bytes], method: str = "POST") -> tuple[str | None, str]:
    """Send ``body`` to the versioned app's ``/echo`` (a list: chunked, piece by piece);
    the version that answered, and whether the answer names the body's length and digest."""
    whole = body if isinstance(body, bytes) else b"".join(body)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        if isinstance(body, bytes):
            connection.request(method, "/echo", body=body)
        else:
            connection.request(method, "/echo", body=iter(body), encode_chunked=True)
        response = connection.getresponse()
        answer = response.read().decode()
    finally:
        connection.close()
    expected = f"{method} {len(whole)} {hashlib.sha256(whole).hexdigest()}\n"
    return response.getheader("X-Version"), "whole" if answer == expected else answer


def versions_on_one_connection(port: int, count: int, edit: Callable[[], None]) -> list[str]:
    """The versions that ``count`` requests on one connection got, ``edit()`` after the first."""
    versions = []
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        for number in range(count):
            if number == 1:
                edit()
            connection.request("GET", "/")
            response = connection.getresponse()
            response.read()
            versions.append(str(response.getheader("X-Version")))
    finally:
        connection.close()
    return versions
