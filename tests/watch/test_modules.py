"""Odd things in sys.modules: a check neither raises, nor imports, nor misses the ordinary."""

from __future__ import annotations

import importlib
import importlib.abc
import os
import sys
import threading
import time
import types

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reloadmw.watch import Watcher, module_file
from tests.support import write

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


class ImportRecorder(importlib.abc.MetaPathFinder):
    """Records every import attempt while installed first on sys.meta_path."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def find_spec(self, name, path=None, target=None):
        self.attempts.append(name)
        return None


@pytest.fixture
def no_imports(monkeypatch):
    recorder = ImportRecorder()
    monkeypatch.setattr(sys, "meta_path", [recorder, *sys.meta_path])
    return recorder


class RaisingModule(types.ModuleType):
    def __getattr__(self, name):
        raise RuntimeError(f"touched {name}")


class ImportingModule(types.ModuleType):
    """Like six.moves: attribute access imports on demand."""

    def __getattr__(self, name):
        return importlib.import_module("no_such_lazy_target_" + name)


class HostileModule(types.ModuleType):
    def __getattribute__(self, name):
        raise RuntimeError(f"touched {name}")


class Weird:
    """Not a module at all, with a __file__ that lies."""

    __file__ = "/etc/passwd"

    def __getattr__(self, name):
        raise RuntimeError("touched")


def odd_entries(tmp_path) -> dict[str, object]:
    namespace = types.ModuleType("odd_namespace")
    namespace.__file__ = None
    namespace.__path__ = [str(tmp_path)]
    entries: dict[str, object] = {
        "odd_no_file": types.ModuleType("odd_no_file"),
        "odd_namespace": namespace,
        "odd_raising": RaisingModule("odd_raising"),
        "odd_importing": ImportingModule("odd_importing"),
        "odd_hostile": HostileModule("odd_hostile"),
        "odd_weird": Weird(),
        "odd_none": None,
        "odd_int": 42,
    }
    for name, value in [("odd_file_int", 7), ("odd_file_bytes", b"/x.py"), ("odd_file_empty", "")]:
        module = types.ModuleType(name)
        module.__file__ = value
        entries[name] = module
    return entries


def test_odd_entries_are_skipped_without_touching_them(modules, tmp_path, monkeypatch, no_imports):
    ordinary = modules("ordinary_beside_odd")
    importlib.import_module("ordinary_beside_odd")
    for name, value in odd_entries(tmp_path).items():
        monkeypatch.setitem(sys.modules, name, value)
    no_imports.attempts.clear()
    watcher = Watcher()
    assert str(ordinary) in watcher.paths
    assert "/etc/passwd" not in watcher.paths
    write(ordinary, "VALUE = 22\n")
    assert watcher.check() == [str(ordinary)]
    assert no_imports.attempts == []


def test_relative_file_is_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rel_mod.py").write_text("X = 1\n")
    module = types.ModuleType("rel_mod")
    module.__file__ = "rel_mod.py"
    assert module_file(module) == str(tmp_path / "rel_mod.py")


paths = st.one_of(
    st.none(),
    st.integers(),
    st.binary(max_size=20),
    st.text(max_size=40),
    st.sampled_from(
        ["/", ".", "..", "/nonexistent/x.py", "x.pyc", "\x00.py", "/tmp", "a\udcff.py"]
    ),
)


@SETTINGS
@given(files=st.lists(paths, max_size=8))
def test_any_file_attribute_is_harmless(modules, monkeypatch, files):
    ordinary = modules("ordinary_fuzzed")
    importlib.import_module("ordinary_fuzzed")
    with monkeypatch.context() as patch:
        for number, value in enumerate(files):
            module = types.ModuleType(f"fuzzed_{number}")
            module.__file__ = value
            patch.setitem(sys.modules, f"fuzzed_{number}", module)
        watcher = Watcher()
        assert str(ordinary) in watcher.paths
        assert watcher.check() == []


def test_threads_adding_and_removing_modules_during_checks(modules):
    ordinary = modules("ordinary_threaded")
    importlib.import_module("ordinary_threaded")
    watcher = Watcher()
    stop = threading.Event()
    errors: list[BaseException] = []
    churned = [0] * 4

    def churn(worker: int) -> None:
        try:
            number = 0
            while not stop.is_set():
                churned[worker] += 1
                name = f"churn_{worker}_{number % 50}"
                module = types.ModuleType(name)
                module.__file__ = os.devnull
                sys.modules[name] = module
                sys.modules.pop(f"churn_{worker}_{(number + 25) % 50}", None)
                number += 1
                if number % 20 == 0:
                    time.sleep(0)  # let the checking thread in
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=churn, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(100):
            assert watcher.check() == []
        write(ordinary, "VALUE = 22\n")
        assert str(ordinary) in watcher.check()
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
        for name in [n for n in sys.modules if n.startswith("churn_")]:
            del sys.modules[name]
    assert errors == []
    assert min(churned) > 20  # every thread changed sys.modules while the checks ran
