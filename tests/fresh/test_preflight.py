"""The import pre-flight: which module, which interpreter, what a failure looks like."""

from __future__ import annotations

import os
import threading
import time

import pytest

from reloadmw import collect
from reloadmw.check import Check, State
from reloadmw.fresh import preflight
from reloadmw.watch import Watcher
from tests.support import write

pytestmark = pytest.mark.preflight


def test_the_builder_is_found_by_name_where_an_import_would_find_it(modules):
    modules("entry_builder", "import sys\nfrom reloadmw import collect\n"
            "ENTRY = collect.find_entry(sys._getframe())\n")  # fmt: skip
    import entry_builder

    entry = entry_builder.ENTRY
    assert (entry.name, entry.importable) == ("entry_builder", True)
    assert entry.path == entry_builder.__file__


def test_a_script_module_is_run_by_path(tmp_path):
    script = write(tmp_path / "site.wsgi", "X = 1\n")
    namespace = {"__name__": "_mod_wsgi_0123", "__file__": str(script)}
    exec(compile("import sys\nENTRY = find(sys._getframe())", str(script), "exec"),
         {**namespace, "find": collect.find_entry}, namespace)  # fmt: skip
    assert namespace["ENTRY"] == collect.Entry("_mod_wsgi_0123", str(script), False)


def test_an_interpreter_like_this_one():
    assert os.access(preflight.python() or "", os.X_OK)


def test_a_working_import_and_a_broken_one(tmp_path):
    good = write(tmp_path / "good.py", "VALUE = 1\n")
    assert preflight.failure(collect.Entry("good", str(good), False)) is None
    bad = write(tmp_path / "bad.py", "import no_such_module_anywhere\n")
    text = preflight.failure(collect.Entry("bad", str(bad), False))
    assert text is not None and "No module named 'no_such_module_anywhere'" in text


def test_the_fresh_interpreter_has_this_sys_path_and_a_disabled_middleware(modules, tmp_path):
    modules("preflight_sibling", "X = 1\n")
    probe = write(
        tmp_path / "probe.py",
        "import os, preflight_sibling\n"
        "assert os.environ['RELOADMW_DISABLE'] == '1' and os.environ['RELOADMW_PREFLIGHT']\n",
    )
    assert preflight.failure(collect.Entry("probe", str(probe), False)) is None


@pytest.mark.posix
def test_siblings_share_one_import_and_one_log_line(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr("tempfile.gettempdir", lambda: str(tmp_path))
    runs = []
    monkeypatch.setattr(preflight, "failure", lambda entry: runs.append(1) or "Traceback: boom")
    entry = collect.Entry("app", "/srv/app.py", True)
    assert preflight.shared_failure(entry, "edit 1") == "Traceback: boom"
    assert preflight.shared_failure(entry, "edit 1") == "Traceback: boom"
    assert len(runs) == 1
    assert caplog.text.count("not restarting: importing app fails") == 1
    assert preflight.shared_failure(entry, "edit 2") == "Traceback: boom"
    assert len(runs) == 2


def test_a_burst_of_writes_is_one_change_into_a_whole_tree(tmp_path):
    files = [write(tmp_path / f"m{n}.py", "V = 1\n") for n in range(12)]
    check = Check(Watcher(extra_files=[str(f) for f in files]), 0.0, True, settle=0.2)

    def burst() -> None:
        for path in files:
            write(path, "V = 2\n")
            time.sleep(0.04)  # 0.5 s in all, each gap shorter than the settle time

    writer = threading.Thread(target=burst)
    writer.start()
    time.sleep(0.05)
    changed = check.run()
    writer.join()
    assert sorted(changed) == sorted(map(str, files))
    assert check.state is State.RESTARTING


def test_files_that_never_stop_changing_restart_anyway(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr("reloadmw.check.SETTLE_MAX", 0.3)
    path = write(tmp_path / "busy.py", "V = 0\n")
    check = Check(Watcher(extra_files=[str(path)]), 0.0, True, settle=0.2)
    stop = threading.Event()

    def keep_writing() -> None:
        number = 0
        while not stop.is_set():
            number += 1
            write(path, f"V = {number}\n")
            time.sleep(0.05)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        time.sleep(0.05)
        assert check.run() == [str(path)]
    finally:
        stop.set()
        writer.join()
    assert "kept changing for 0.3s; restarting anyway" in caplog.text


def test_the_gate_holds_changes_back_until_the_files_change_again(tmp_path):
    path = write(tmp_path / "views.py", "V = 1\n")
    asked = []
    answers = iter(["ImportError: broken", None])
    check = Check(Watcher(extra_files=[str(path)]), 0.0, True,
                  gate=lambda states: asked.append(states) or next(answers))  # fmt: skip
    write(path, "V = 2\n")
    assert check.run() == [] and check.state is State.BROKEN
    assert check.failure == "ImportError: broken"
    assert check.run() == [] and len(asked) == 1  # the same files: not asked again
    write(path, "V = 3\n")
    assert check.run() == [str(path)] and check.state is State.RESTARTING
    assert len(asked) == 2  # asked once per new state
