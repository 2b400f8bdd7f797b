"""Fixtures shared by the test modules."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reloadmw.watch import module_file
from tests import support


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the tests bound to another platform (the hosted runners meet them there)."""
    elsewhere = [
        item
        for item in items
        if ("linux" in item.keywords and sys.platform != "linux")
        or ("posix" in item.keywords and os.name != "posix")
    ]
    if elsewhere:
        config.hook.pytest_deselected(items=elsewhere)
        items[:] = [item for item in items if item not in elsewhere]


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A world-readable temporary directory (server daemons may run as another user)."""
    path = Path(tempfile.mkdtemp(prefix="reloadmw-test-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        support.remove_tree(path)


@pytest.fixture
def modules(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[support.ModuleMaker]:
    """Write importable modules into ``workdir``; forget them afterwards.

    Bytecode is written, as in a default Python, whatever PYTHONDONTWRITEBYTECODE says.
    """
    before = set(sys.modules)
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    sys.path.insert(0, str(workdir))
    maker = support.ModuleMaker(workdir)
    try:
        yield maker
    finally:
        sys.path.remove(str(workdir))
        for name in set(sys.modules) - before:
            path = module_file(sys.modules[name])  # safe with any odd entry
            if path is not None and path.startswith(str(workdir)):
                del sys.modules[name]


class Recorder:
    """A restart hook that records each call."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, changed: list[str]) -> None:
        self.calls.append(list(changed))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def caplog_reloadmw(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="reloadmw")
    return caplog


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> support.Clock:
    """Replace the monotonic clock of the middleware and its check with one the test moves."""
    fake = support.Clock()
    monkeypatch.setattr("reloadmw.middleware.monotonic", fake)
    monkeypatch.setattr("reloadmw.check.monotonic", fake)
    return fake


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    monkeypatch.delenv("RELOADMW_DISABLE", raising=False)
    # In-process tests build middlewares in test modules: importing those again in a fresh
    # interpreter before each restart would cost seconds and prove nothing. The tests of
    # the pre-flight itself (marked preflight), and every server test, run it for real.
    if "preflight" not in request.keywords:
        monkeypatch.setattr("reloadmw.fresh.preflight.shared_failure", lambda entry, key: None)


@pytest.fixture
def server_factory(workdir: Path) -> Iterator[Callable[..., support.Server]]:
    """Start real servers on 127.0.0.1; every one is stopped by its pid afterwards."""
    started: list[support.Server] = []

    def start(argv: list[str] | support.Server, **kwargs: object) -> support.Server:
        """Start ``argv`` as a Server, or start the Server given (Apache, say)."""
        if isinstance(argv, support.Server):
            server = argv
        else:
            server = support.Server(argv, log_dir=workdir, **kwargs)  # type: ignore[arg-type]
        started.append(server)
        server.start()
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def python() -> str:
    return os.fspath(sys.executable)
