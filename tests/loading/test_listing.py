"""``reloadmw files TARGET``: the watched files, grouped by directory, with why each one is."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from reloadmw.places import by_directory, places
from tests import support

APP = """\
import views
from lib import helpers

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]
"""


def files(cwd: Path, *arguments: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reloadmw", "files", *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "RELOADMW_DISABLE": "", **env},
    )


def project(root: Path) -> Path:
    support.write(root / "app.py", APP)
    support.write(root / "views.py", "VERSION = 1\n")
    support.write(root / "lib" / "__init__.py", "")
    support.write(root / "lib" / "helpers.py", "")
    support.write(root / "templates" / "page.html", "<p>hi</p>\n")
    return root


def test_each_watched_file_under_its_directory_with_why(tmp_path):
    root = project(tmp_path)
    result = files(root, "app.py", "--extra-file", "templates/*.html", "--extra-file", "gone.txt")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "app.py: 6 files watched (inotify backend, on every request)"
    assert lines[1:10] == [
        "./",
        "    app.py    module app",
        "    gone.txt  extra file, missing for now",
        "    views.py  module views",
        "lib/",
        "    __init__.py  module lib",
        "    helpers.py   module lib.helpers",
        "templates/",
        "    page.html  extra file (templates/*.html)",
    ]
    assert lines[10] == "Not watched:"
    assert any(line.endswith("modules of reloadmw itself") for line in lines[11:])
    assert any(line.endswith("modules from the standard library") for line in lines[11:])


def test_a_failed_import_lists_what_it_waits_for(tmp_path):
    support.write(tmp_path / "broken.py", "import not_written_yet\n")
    result = files(tmp_path, "broken.py")
    assert result.returncode == 0
    assert "importing it failed" in result.stdout
    assert "    broken.py           named by the failed import\n" in result.stdout
    assert "not_written_yet.py  named by the failed import, missing for now" in result.stdout
    assert "ModuleNotFoundError" in result.stderr  # the traceback, as serve logs it


def test_a_bad_target_is_one_line_and_status_2(tmp_path):
    project(tmp_path)
    result = files(tmp_path, "app:aplication")
    assert result.returncode == 2
    assert result.stderr == (
        "reloadmw: error: module 'app' has no 'aplication' (from 'app:aplication')\n"
    )
    assert result.stdout == ""


def test_disabled(tmp_path):
    project(tmp_path)
    result = files(tmp_path, "app.py", RELOADMW_DISABLE="1")
    assert result.stdout.splitlines()[0] == (
        "app.py: reloadmw is disabled (enabled=False or RELOADMW_DISABLE is set)"
    )


def test_the_start_up_summary_names_the_biggest_directories_first(tmp_path):
    paths = [str(tmp_path / d / f"m{i}.py") for d, n in (("a", 1), ("b", 3), ("c", 2), ("d", 1))
             for i in range(n)]  # fmt: skip
    assert places(paths, str(tmp_path)) == (
        "7 files watched in b/ (3), c/ (2), a/ (1) and 1 more directories"
    )
    assert places(paths[:1], str(tmp_path)) == "1 file watched in a/"
    assert places([], str(tmp_path)) == "0 files watched"
    assert by_directory([str(tmp_path / "x.py"), "/elsewhere/y.py"], str(tmp_path)) == {
        "./": ["x.py"],
        "/elsewhere/": ["y.py"],
    }


def test_the_command_finds_modules_in_the_current_directory_as_serve_does(tmp_path):
    """``reloadmw files app:application`` from the launcher, not ``python -m``."""
    import sysconfig

    project(tmp_path)
    launcher = os.path.join(sysconfig.get_path("scripts"), "reloadmw")
    result = subprocess.run(
        [launcher, "files", "app:application"], cwd=tmp_path, capture_output=True, text=True,
        timeout=60, env={**os.environ, "RELOADMW_DISABLE": ""},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "    app.py    module app" in result.stdout
