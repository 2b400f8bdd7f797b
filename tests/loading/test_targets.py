"""Loading apps by name with the import guard: import_app and `reloadmw serve` targets."""

from __future__ import annotations

import os

import pytest
from webtest import TestApp

from reloadmw import ReloadMiddleware, TargetError, import_app
from reloadmw.loading.targets import BrokenImport, load
from reloadmw.options import Options
from tests.support import write

LOCAL = {"REMOTE_ADDR": "127.0.0.1", "SERVER_SOFTWARE": "gunicorn/23.0.0"}
REMOTE = {"REMOTE_ADDR": "192.0.2.1", "SERVER_SOFTWARE": "gunicorn/23.0.0"}

GOOD = """
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"good"]
"""


def test_import_app_wraps_the_application(modules):
    modules("target_good", GOOD)
    app = import_app("target_good:application", interval=0)
    assert isinstance(app, ReloadMiddleware)
    assert app.options.interval == 0
    assert TestApp(app).get("/", extra_environ=LOCAL).text == "good"
    assert import_app("target_good").app is app.app  # the callable defaults to application


def test_a_failing_import_serves_the_traceback_and_restarts_on_an_edit(modules, recorder):
    helper = modules("target_helper", "def value():\n    return 1 / 0\n")
    broken = modules("target_broken", "import target_helper\nVALUE = target_helper.value()\n")
    app = import_app("target_broken:application", interval=0, hook=recorder)
    assert isinstance(app.app, BrokenImport)
    assert {str(helper), str(broken)} <= set(app.watched_files)
    web = TestApp(app)
    page = web.get("/", extra_environ=LOCAL, status=500)
    assert "ZeroDivisionError" in page.text
    assert str(helper) in page.text
    remote = web.get("/", extra_environ=REMOTE, status=500)
    assert "ZeroDivisionError" not in remote.text
    write(helper, "def value():\n    return 2\n")
    web.get("/", extra_environ=LOCAL, status=500, expect_errors=True)
    assert recorder.calls == [[str(helper)]]


def test_a_syntax_error_at_import_waits_for_a_file_that_compiles(modules, recorder):
    broken = modules("target_syntax", "def application(:\n")
    app = import_app("target_syntax:application", interval=0, hook=recorder)
    web = TestApp(app)
    assert "SyntaxError" in web.get("/", extra_environ=LOCAL, status=500).text
    write(broken, "def application(:\n    still broken\n")
    web.get("/", extra_environ=LOCAL, status=500)  # the check after it sees a broken edit
    assert "line 1" in web.get("/", extra_environ=LOCAL, status=500).text
    assert recorder.calls == []
    write(broken, GOOD)
    web.get("/", extra_environ=LOCAL, status=503, expect_errors=True)
    assert recorder.calls == [[str(broken)]]


@pytest.mark.parametrize("target", ["no_such_module_anywhere:app", "no_such_pkg.sub:app", "a b:c"])
def test_a_target_that_names_nothing_is_an_error(target):
    with pytest.raises(TargetError, match=r"no_such|not 'package\.module:callable'"):
        import_app(target)


def test_an_import_error_inside_the_module_is_guarded(modules):
    modules("target_needs", "import no_such_dependency_here\n")
    app = import_app("target_needs:application")
    text = TestApp(app).get("/", extra_environ=LOCAL, status=500).text
    assert "no_such_dependency_here" in text


def test_load_a_wsgi_script_file(workdir):
    script = write(workdir / "site.wsgi", GOOD)
    app = load(str(script), Options(interval=3))
    assert app.options.interval == 3
    assert str(script) in app.watched_files
    assert TestApp(app).get("/", extra_environ=LOCAL).text == "good"


def test_load_a_missing_file_is_a_target_error(workdir):
    with pytest.raises(TargetError, match="no file"):
        load(str(workdir / "missing.py"))


INI = """
[pipeline:main]
pipeline = {pipeline}

[filter:reload]
use = egg:reloadmw
interval = 7

[app:hello]
use = call:tests.apps.hello:app_factory
"""


def test_load_an_ini_wraps_it_once(workdir):
    plain = write(workdir / "plain.ini", INI.format(pipeline="hello"))
    wrapped = load(f"config:{plain}", Options(interval=2))
    assert isinstance(wrapped, ReloadMiddleware)
    assert wrapped.options.interval == 2
    own = write(workdir / "own.ini", INI.format(pipeline="reload hello"))
    loaded = load(f"config:{own}", Options(interval=2))
    assert isinstance(loaded, ReloadMiddleware)
    assert loaded.options.interval == 7  # the ini's own filter, not wrapped again
    named = load(f"config:{plain}#hello")
    assert TestApp(named).get("/", extra_environ=LOCAL).text == "hello"


def test_load_an_ini_whose_app_fails_watches_the_ini(workdir):
    ini = write(workdir / "bad.ini", "[app:main]\nuse = call:no_such_module_x:factory\n")
    app = load(f"config:{ini}")
    assert isinstance(app.app, BrokenImport)
    assert str(ini) in app.watched_files


def test_a_name_the_module_lacks_is_a_target_error(modules):
    """A typo in the callable is a mistake in the command: one line, not a traceback page."""
    modules("typo_target", "def application(environ, start_response):\n    return []\n")
    with pytest.raises(TargetError, match="module 'typo_target' has no 'aplication'"):
        load("typo_target:aplication")


def test_an_attribute_error_inside_the_module_is_the_codes(modules):
    modules("inner_error", "import os\nos.no_such_function\napplication = None\n")
    app = load("inner_error:application")
    assert isinstance(app.app, BrokenImport)
    assert "no_such_function" in TestApp(app).get("/", extra_environ=LOCAL, status=500).text


def test_a_django_module_that_looks_like_a_file_name_gets_a_hint(workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    with pytest.raises(TargetError, match=r"for the module, write mysite\.wsgi:application$"):
        load("mysite.wsgi")


FACTORY = """
def create_app(config=None):
    def application(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"made by the factory"]
    return application
"""


def test_a_factory_that_takes_no_argument_is_called(modules):
    # `reloadmw serve flaskr:create_app`: called as `flask --app` calls it, not served.
    modules("target_factory", FACTORY)
    for target in ("target_factory:create_app", "target_factory"):  # alone: Flask's names
        page = TestApp(import_app(target, interval=0)).get("/", extra_environ=LOCAL)
        assert page.text == "made by the factory"


def test_a_module_alone_is_looked_up_as_flask_does(modules):
    modules("target_both", GOOD + "app = 'not this one'\n")
    assert TestApp(import_app("target_both")).get("/", extra_environ=LOCAL).text == "good"
    modules("target_neither", "VALUE = 1\n")
    message = "module 'target_neither' has none of application, app, create_app, make_app"
    with pytest.raises(TargetError, match=message):
        load("target_neither")


def test_an_ini_file_named_as_a_module_gets_a_hint(workdir):
    with pytest.raises(TargetError, match=r"'development\.ini' is an ini file: write config:"):
        load("development.ini")


def test_the_traceback_starts_where_the_users_code_failed(modules):
    helper = modules("target_deep", "def value():\n    return 1 / 0\n")
    modules("target_calls", "import target_deep\nVALUE = target_deep.value()\n")
    page = TestApp(import_app("target_calls:application")).get(
        "/", extra_environ=LOCAL, status=500
    )
    lines = page.text.splitlines()
    assert lines[2:4] == [f"{helper}, line 2", "    return 1 / 0"]  # the innermost line
    assert "reloadmw" + os.sep + "targets.py" not in page.text  # no frame of reloadmw's own
    assert "<frozen importlib" not in page.text
