"""What is watched, and what counts as a change."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import sys
import sysconfig
import types
import zipfile

import pytest

from reloadmw import watch
from reloadmw.watch import Watcher, module_file, sources
from reloadmw.watch.patterns import glob_regex
from tests.support import build_library, write


def under(watcher, directory):
    return [p for p in watcher.paths if p.startswith(str(directory))]


def test_new_watcher_reports_nothing(modules):
    path = modules("plain_mod")
    importlib.import_module("plain_mod")
    watcher = Watcher()
    assert str(path) in watcher.paths
    assert watcher.check() == []


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda p: write(p, "VALUE = 22\n"), id="content-and-size"),
        pytest.param(
            lambda p: os.utime(p, ns=(1, p.stat().st_mtime_ns + 1)), id="mtime-forward-1ns"
        ),
        pytest.param(
            lambda p: os.utime(p, ns=(1, p.stat().st_mtime_ns - 10**9)), id="older-mtime"
        ),
        pytest.param(lambda p: p.unlink(), id="deleted"),
        pytest.param(
            lambda p: (
                p.with_name("tmp").write_text(p.read_text()),
                os.utime(p.with_name("tmp"), ns=(p.stat().st_atime_ns, p.stat().st_mtime_ns)),
                os.replace(p.with_name("tmp"), p),
            ),
            id="atomic-replace-same-mtime-and-size",
        ),
    ],
)
def test_changes_are_found(modules, edit):
    path = modules("edited_mod")
    importlib.import_module("edited_mod")
    watcher = Watcher()
    edit(path)
    assert watcher.check() == [str(path)]


def test_standard_library_is_never_watched():
    watcher = Watcher(include_site_packages=True)
    stdlib = sysconfig.get_paths()["stdlib"]
    assert json.__file__.startswith(stdlib)
    assert not [p for p in watcher.paths if p == json.__file__]
    assert os.path.realpath(json.__file__) not in watcher.paths


def test_site_packages_only_when_asked():
    import webob  # installed in site-packages by the test set-up

    assert "site-packages" in webob.__file__ or "dist-packages" in webob.__file__
    assert webob.__file__ not in Watcher().paths
    assert webob.__file__ in Watcher(include_site_packages=True).paths


def test_bytecode_only_module_maps_to_its_source(modules):
    path = modules("compiled_mod")
    module = importlib.import_module("compiled_mod")
    module.__file__ = importlib.util.cache_from_source(str(path))
    assert module_file(module) == str(path)


def test_sourceless_bytecode_and_extensions_are_watched_as_files(tmp_path):
    legacy = tmp_path / "legacy.pyc"
    legacy.write_bytes(b"")
    extension = tmp_path / "fast.cpython-311-x86_64-linux-gnu.so"
    assert module_file(types.SimpleNamespace()) is None
    for path in (legacy, extension):
        module = types.ModuleType("m")
        module.__file__ = str(path)
        assert module_file(module) == str(path)


NATIVE_EXTENSION = """
#include <Python.h>
static struct PyModuleDef definition = {PyModuleDef_HEAD_INIT, "native_ext", NULL, -1, NULL};
PyMODINIT_FUNC PyInit_native_ext(void) { return PyModule_Create(&definition); }
"""


@pytest.mark.linux  # macOS links extensions with other flags
def test_extension_module_is_watched_as_a_file(modules, workdir):
    library = workdir / ("native_ext" + sysconfig.get_config_var("EXT_SUFFIX"))
    build_library(NATIVE_EXTENSION, library, f"-I{sysconfig.get_paths()['include']}")
    module = importlib.import_module("native_ext")
    assert module_file(module) == str(library)
    watcher = Watcher()
    assert str(library) in watcher.paths
    os.utime(library, ns=(0, library.stat().st_mtime_ns + 1))
    assert watcher.check() == [str(library)]


def test_module_in_zip_watches_the_archive(tmp_path):
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("zipped_mod.py", "VALUE = 1\n")
    sys.path.insert(0, str(archive))
    try:
        module = importlib.import_module("zipped_mod")
        assert module_file(module) == str(archive)
        watcher = Watcher()
        assert str(archive) in watcher.paths
        with zipfile.ZipFile(archive, "a") as bundle:
            bundle.writestr("other.py", "")
        assert watcher.check() == [str(archive)]
    finally:
        sys.path.remove(str(archive))
        sys.modules.pop("zipped_mod", None)


class Lazy(types.ModuleType):
    def __getattr__(self, name):
        raise AssertionError(f"a check must not touch {name}")


def test_odd_sys_modules_entries_are_skipped(modules, monkeypatch):
    path = modules("ordinary_mod")
    importlib.import_module("ordinary_mod")
    no_file = types.ModuleType("no_file")
    none_file = types.ModuleType("none_file")
    none_file.__file__ = None
    number_file = types.ModuleType("number_file")
    number_file.__file__ = 42
    monkeypatch.setitem(sys.modules, "odd_no_file", no_file)
    monkeypatch.setitem(sys.modules, "odd_none_file", none_file)
    monkeypatch.setitem(sys.modules, "odd_number_file", number_file)
    monkeypatch.setitem(sys.modules, "odd_lazy", Lazy("odd_lazy"))
    monkeypatch.setitem(sys.modules, "odd_object", object())
    monkeypatch.setitem(sys.modules, "odd_none", None)
    watcher = Watcher()
    assert str(path) in watcher.paths
    assert watcher.check() == []


def test_modules_imported_later_join_at_the_next_check(modules):
    watcher = Watcher()
    path = modules("later_mod")
    importlib.import_module("later_mod")
    assert str(path) not in watcher.paths
    assert watcher.check() == []
    assert str(path) in watcher.paths
    write(path, "VALUE = 2222\n")
    assert watcher.check() == [str(path)]


def test_edit_between_a_late_import_and_the_next_check_is_found(modules):
    """Django imports views on the first request; an edit before the next check counts."""
    watcher = Watcher()
    path = modules("lazy_view", "VALUE = 1\n")
    importlib.import_module("lazy_view")  # writes bytecode for this source
    write(path, "VALUE = 2\n")  # same size: only the mtime tells
    assert watcher.check() == [str(path)]


def test_edit_before_a_late_import_is_no_change(modules):
    watcher = Watcher()
    path = modules("fresh_view", "VALUE = 1\n")
    write(path, "VALUE = 2\n")
    importlib.import_module("fresh_view")  # imports, and caches, the edited code
    assert watcher.check() == []
    assert str(path) in watcher.paths


def test_without_bytecode_a_late_import_after_an_edit_costs_one_restart(modules, monkeypatch):
    """Documented: with no .pyc to prove which source was imported, restart rather than miss."""
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    watcher = Watcher()
    path = modules("uncached_view", "VALUE = 1\n")
    importlib.import_module("uncached_view")
    assert watcher.check() == [str(path)]


def test_late_import_of_a_file_older_than_the_last_scan_is_trusted(modules, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    path = modules("old_view", "VALUE = 1\n")
    os.utime(path, ns=(0, path.stat().st_mtime_ns - 10**9))
    watcher = Watcher()
    importlib.import_module("old_view")
    assert watcher.check() == []
    assert str(path) in watcher.paths


def test_explicit_extra_file_missing_then_created_is_a_change(tmp_path):
    target = tmp_path / "settings.ini"
    watcher = Watcher(extra_files=[str(target)])
    assert str(target) in watcher.paths
    assert watcher.check() == []
    target.write_text("[app]\n")
    assert watcher.check() == [str(target)]


def test_glob_extra_files_adopt_new_files_and_report_removed_ones(tmp_path):
    (tmp_path / "templates" / "admin").mkdir(parents=True)
    page = write(tmp_path / "templates" / "admin" / "page.html", "<p>1</p>")
    watcher = Watcher(extra_files=[str(tmp_path / "templates" / "**" / "*.html")])
    assert under(watcher, tmp_path) == [str(page)]
    created = write(tmp_path / "templates" / "new.html", "<p>new</p>")
    assert watcher.check() == []
    assert str(created) in watcher.paths
    write(page, "<p>2</p>")
    assert watcher.check() == [str(page)]
    created.unlink()
    assert str(created) in watcher.check()


def test_glob_matches_skip_directories(tmp_path):
    (tmp_path / "conf.d").mkdir()
    watcher = Watcher(extra_files=[str(tmp_path / "*")])
    assert under(watcher, tmp_path) == []


def test_exclude_patterns_apply_to_modules_and_extra_files(modules, tmp_path):
    kept = modules("keep_me")
    skipped = modules("migrations.0001_initial")
    importlib.import_module("keep_me")
    importlib.import_module("migrations.0001_initial")
    extra = write(tmp_path / "notes.tmp", "x")
    watcher = Watcher(extra_files=[str(extra)], exclude=["migrations/*.py", "*.tmp"])
    assert str(kept) in watcher.paths
    assert str(skipped) not in watcher.paths
    assert str(extra) not in watcher.paths
    absolute = Watcher(exclude=[str(kept.parent / "keep_*.py")])
    assert str(kept) not in absolute.paths


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("/a/*.py", "/a/b.py", True),
        ("/a/*.py", "/a/b/c.py", False),
        ("/a/**/*.py", "/a/c.py", True),
        ("/a/**/*.py", "/a/b/c/d.py", True),
        ("/a/**", "/a/b/c", True),
        ("/a/?.py", "/a/b.py", True),
        ("/a/?.py", "/a/bc.py", False),
        ("/a/[bc].py", "/a/c.py", True),
        ("/a/[!bc].py", "/a/c.py", False),
        ("/a/[!bc].py", "/a/d.py", True),
        ("/a/[a-c].py", "/a/b.py", True),
        ("/a/x+y(1).py", "/a/x+y(1).py", True),
        ("/a/[.py", "/a/[.py", True),
    ],
)
def test_glob_regex(pattern, path, matches):
    assert bool(re.fullmatch(glob_regex(pattern), path)) is matches


def test_forget_bytecode_removes_every_optimization_level(modules):
    path = modules("cached_mod")
    cached = [importlib.util.cache_from_source(str(path), optimization=o) for o in ("", 1, 2)]
    for name in cached:
        os.makedirs(os.path.dirname(name), exist_ok=True)
        with open(name, "wb"):
            pass
    assert sources.forget_bytecode([str(path), "/no/such/file.py", "/some/data.json"]) == []
    assert not any(os.path.exists(name) for name in cached)


def test_bytecode_matches_reads_the_pyc_header(modules):
    path = modules("header_mod")
    importlib.import_module("header_mod")
    state = watch.file_state(str(path))
    assert sources.bytecode_matches(str(path), state)
    assert not sources.bytecode_matches(str(path), (state[0] + 10**9, state[1], state[2]))
    assert not sources.bytecode_matches(str(path), (state[0], state[1] + 1, state[2]))
    assert not sources.bytecode_matches(str(path), None)
    assert not sources.bytecode_matches(str(path.with_name("missing.py")), state)


def test_the_module_that_builds_the_watcher_is_trusted(modules, monkeypatch):
    """A WSGI script builds the middleware while it is still being imported."""
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # no .pyc to vouch for it
    path = modules("builds_watcher", "from reloadmw.watch import Watcher\nWATCHER = Watcher()\n")
    watcher = importlib.import_module("builds_watcher").WATCHER  # written a moment ago
    assert str(path) in watcher.paths
    assert watcher.check() == []
    write(path, "from reloadmw.watch import Watcher\nWATCHER = Watcher()  # edited\n")
    assert watcher.check() == [str(path)]


def test_reloadmw_never_watches_itself(modules):
    """Even from a checkout or an editable install, which is no site-packages."""
    import reloadmw

    own = os.path.dirname(reloadmw.__file__)
    watcher = Watcher(include_site_packages=True)
    assert [p for p in watcher.paths if p.startswith(own + os.sep)] == []
    path = modules("ordinary_module")
    importlib.import_module("ordinary_module")
    assert str(path) in Watcher().paths  # while the application's modules are


def test_python_files_in_a_template_folder_are_modules_not_templates(modules, workdir):
    """Pyramid's search path is a whole package: a module imported at a later request must
    restart when edited, not be read again as a template (its old code would stay)."""
    import flask

    modules("pack.views", "VALUE = 1\n")
    page = write(workdir / "pack" / "page.jinja2", "<p>1</p>")
    app = flask.Flask("pack", template_folder=str(workdir / "pack"))
    watcher = Watcher(templates_of=app)
    assert watcher.reasons[str(page)] == "template (Flask)"
    assert str(workdir / "pack" / "views.py") not in watcher.reasons
    importlib.import_module("pack.views")
    watcher.adopt_modules()
    views = str(workdir / "pack" / "views.py")
    assert watcher.reasons[views] == "module pack.views"
    write(workdir / "pack" / "views.py", "VALUE = 2\n")
    changed = watcher.check()
    assert changed == [views]
    assert watcher.take_templates(changed) is False  # a restart, not templates read again
