"""The documentation builds, and every example in it runs: the docs cannot drift from the code.

Every Python, ini and Apache example in the docs is a file under docs/examples,
shown with ``literalinclude``; each one is exercised here, and a test fails when
a page grows an inline example or an example file that nothing exercises.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from paste.deploy import loadapp
from webtest import TestApp

from reloadmw import ReloadMiddleware, hooks
from reloadmw.loading.targets import load
from tests import support
from tests.servers.apache import Apache

pytestmark = pytest.mark.linux

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"
LOCAL = {"REMOTE_ADDR": "127.0.0.1", "SERVER_SOFTWARE": "gunicorn/23.0.0"}

#: Every example file, and the test that runs it.
EXERCISED = {
    "hello.py": "test_hello",
    "wsgi_script.py": "test_wsgi_script",
    "options.py": "test_options_py_and_ini_agree",
    "options.ini": "test_options_py_and_ini_agree",
    "development.ini": "test_ini_examples",
    "filter-with.ini": "test_ini_examples",
    "filter-app.ini": "test_ini_examples",
    "defaults.ini": "test_ini_examples",
    "guarded.wsgi": "test_scripts",
    "site.wsgi": "test_scripts",
    "windows.wsgi": "test_scripts",
    "paste.wsgi": "test_scripts",
    "hello_wrapped.py": "test_scripts",
    "wsgiref_main.py": "test_scripts",
    "apache-daemon.conf": "test_apache_daemon_example",
    "windows-httpd.conf": "test_windows_httpd_example",
    "uwsgi.ini": "test_commands.py::test_uwsgi",
    "supervisord.conf": "test_commands.py::test_wsgiref_under_supervisord",
    "flask_app.py": "test_commands.py::test_flask",
    "pyramid_app.py": "test_commands.py::test_pyramid",
    "pyramid.ini": "test_commands.py::test_pyramid",
    "djangosite/mysite/views.py": "test_commands.py::test_django",
    "djangosite/mysite/wsgi.py": "test_commands.py::test_django",
    "djangosite/mysite/urls.py": "test_commands.py::test_django",
    "wsgi_logging.py": "test_logging_example",
    "apache-venv.conf": "test_apache_venv_example",
    "live_site.py": "test_commands.py::test_live_reload",
    "static/site.css": "test_commands.py::test_live_reload",
}


@pytest.fixture
def examples(monkeypatch):
    """docs/examples on sys.path, as the docs' commands and configurations have it."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    before = set(sys.modules)
    yield EXAMPLES
    for name in set(sys.modules) - before:
        module = sys.modules[name]
        if str(getattr(module, "__file__", "") or "").startswith(str(EXAMPLES)):
            del sys.modules[name]


def test_every_example_is_included_and_exercised():
    pages = "\n".join(p.read_text() for p in DOCS.rglob("*.rst"))
    included = set(re.findall(r"literalinclude:: (?:\.\./)?examples/(\S+)", pages))
    # Top-level files, and the files of a project in a directory (djangosite) that a page shows.
    files = {p.name for p in EXAMPLES.iterdir() if p.is_file()}
    files |= {name for name in included if (EXAMPLES / name).is_file()}
    assert files == set(EXERCISED), "an example file with no test, or a test with no file"
    assert included <= files
    assert files - included == set(), "an example that no page shows"
    assert not re.search(r"code-block:: (python|ini|apache)", pages), "inline example: use a file"


def test_readme_examples_are_doc_examples():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```(?:python|ini)\n(.*?)```", readme, re.DOTALL)
    assert blocks
    files = [{line.strip() for line in p.read_text().splitlines()} for p in EXAMPLES.rglob("*.*")]
    for block in blocks:
        lines = {line.strip() for line in block.splitlines() if line.strip()}
        assert any(lines <= example for example in files), block


def test_hello(examples):
    hello = importlib.import_module("hello")
    assert hello.MESSAGE in TestApp(hello.application).get("/").text
    assert hello.app_factory({}) is hello.application


def test_wsgi_script(examples):
    script = importlib.import_module("wsgi_script")
    assert isinstance(script.application, ReloadMiddleware)
    assert TestApp(script.application).get("/", extra_environ=LOCAL).text == "Hello, world\n"


def test_options_py_and_ini_agree(examples):
    from_python = importlib.import_module("options").application
    from_ini = loadapp(f"config:{EXAMPLES / 'options.ini'}")
    for middleware in (from_python, from_ini):
        assert isinstance(middleware, ReloadMiddleware)
        options = middleware.options
        assert (options.interval, options.on_change, options.backend) == (0.5, "retry", "inotify")
        assert (middleware.options.replay, middleware.options.syntax_check) == (False, False)
        assert middleware._hook_spec.name == "signal:SIGTERM"


@pytest.mark.parametrize(
    ("ini", "interval"),
    [("development.ini", "auto"), ("filter-with.ini", 1.0), ("filter-app.ini", 1.0),
     ("defaults.ini", 0.5)],
)  # fmt: skip
def test_ini_examples(examples, ini, interval):
    app = loadapp(f"config:{EXAMPLES / ini}")
    assert isinstance(app, ReloadMiddleware)
    assert app.options.interval == interval
    assert "Hello from reloadmw" in TestApp(app).get("/", extra_environ=LOCAL).text


def test_scripts(examples):
    guarded = load(str(EXAMPLES / "guarded.wsgi"))
    assert "Hello from reloadmw" in TestApp(guarded).get("/", extra_environ=LOCAL).text
    site = load(str(EXAMPLES / "site.wsgi"))
    script = next(m for m in list(sys.modules.values()) if getattr(m, "application", None) is site)
    assert script.reload_required == site.reload_required  # the one-liner, as the page shows
    windows = load(str(EXAMPLES / "windows.wsgi"))
    assert isinstance(windows._hook_spec, hooks.ApacheSignalParent)
    assert (windows._hook_spec.library, windows._hook_spec.signal_type) == ("libhttpd", 1)
    paste = load(str(EXAMPLES / "paste.wsgi"))
    assert isinstance(paste, ReloadMiddleware)
    wrapped = importlib.import_module("hello_wrapped")
    assert isinstance(wrapped.application, ReloadMiddleware)
    main = importlib.import_module("wsgiref_main")
    assert main.application is wrapped.application


def copy_examples(workdir: Path) -> Path:
    site = workdir / "mysite"
    shutil.copytree(EXAMPLES, site)
    for path in [site, *site.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return site


@pytest.mark.server
def test_apache_daemon_example(workdir, server_factory):
    """The page's configuration, as written, with its /srv/mysite put here."""
    site = copy_examples(workdir)
    config = (EXAMPLES / "apache-daemon.conf").read_text().replace("/srv/mysite", str(site))
    from tests.servers.apache import shared_site

    config = config.replace(f"python-path={site}", f"python-path={site}:{shared_site()}")
    server = server_factory(Apache(site, "site.wsgi", root=workdir / "httpd", site=config))
    first = support.get(server.port)
    assert "Hello from reloadmw" in first.text
    support.get(server.port)
    hello = site / "hello.py"
    support.write(hello, hello.read_text().replace("Hello from reloadmw!", "Edited!"))
    time.sleep(1.1)
    after = support.get(server.port)
    assert "Edited!" in after.text, server.log()  # the first page after the edit


@pytest.mark.server
def test_windows_httpd_example(workdir, server_factory):
    """The Windows page's httpd.conf is valid Apache configuration that serves its script.

    Its first three lines are what ``mod_wsgi-express module-config`` prints on Windows;
    here Debian's mod_wsgi stands in for them. Under Linux, ``ap_signal_parent`` cannot
    load, so the hook says so once and the page is served without restarts.
    """
    from tests.servers.apache import shared_site

    site = copy_examples(workdir)
    lines = (EXAMPLES / "windows-httpd.conf").read_text().splitlines()
    machine = ("LoadFile ", "LoadModule ", "WSGIPythonHome ")
    config = "\n".join(line for line in lines if not line.startswith(machine))
    config = config.replace("C:/mysite", str(site))
    config = config.replace(f'WSGIPythonPath "{site}"', f'WSGIPythonPath "{site}:{shared_site()}"')
    server = server_factory(Apache(site, "windows.wsgi", root=workdir / "httpd", site=config))
    assert "Hello from reloadmw" in support.get(server.port).text
    support.wait_for(
        lambda: (
            "cannot restart through Apache's ap_signal_parent (library 'libhttpd')" in server.log()
        ),
        10,
        what="the hook's one warning in Apache's error log",
    )


def test_logging_example(examples):
    """The two lines turn on the INFO line that says the process restarts on a change."""
    script = "import runpy; runpy.run_path('wsgi_logging.py'); import logging; logging.shutdown()"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=EXAMPLES, capture_output=True, text=True, timeout=60,
        env={**os.environ, "RELOADMW_DISABLE": ""},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    line = r"reloadmw INFO pid \d+ restarts when its code changes \(\d files? watched in \./,"
    assert re.search(line, result.stderr), result.stderr


@pytest.mark.server
def test_apache_venv_example(workdir, server_factory):
    """The page's configuration, with /srv/mysite here and its .venv one made by Debian's
    python3 with reloadmw installed (mod_wsgi-express's, which is such an environment)."""
    from tests.servers.apache import express_venv

    site = copy_examples(workdir)
    config = (EXAMPLES / "apache-venv.conf").read_text()
    config = config.replace("/srv/mysite/.venv", str(express_venv())).replace(
        "/srv/mysite", str(site)
    )
    server = server_factory(Apache(site, "site.wsgi", root=workdir / "httpd", site=config))
    assert "Hello from reloadmw" in support.get(server.port).text, server.log()
    hello = site / "hello.py"
    support.write(hello, hello.read_text().replace("Hello from reloadmw!", "Edited!"))
    time.sleep(1.1)
    assert "Edited!" in support.get(server.port).text, server.log()
