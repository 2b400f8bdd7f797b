"""HTTP for the tests: free ports, one request at a time, bounded waits."""

from __future__ import annotations

import http.client
import os
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

#: Every wait in the tests is bounded by this many seconds, at most.
STARTUP_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def get(port: int, path: str = "/", timeout: float = 20.0, accept: str = "") -> Response:
    """One GET on a fresh connection; the whole body, however long."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Connection": "close", **({"Accept": accept} if accept else {})}
    try:
        connection.request("GET", path, headers=headers)
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
