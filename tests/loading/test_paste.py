"""PasteDeploy: the egg:reloadmw entry points in pipelines, filter-with and filter-app."""

from __future__ import annotations

import os
import textwrap

import pytest
from paste.deploy import loadapp
from webtest import TestApp

from reloadmw import ReloadMiddleware, filter_app_factory, filter_factory, hooks

APP = """
[app:hello]
use = call:tests.apps.hello:app_factory
"""


PIPELINE = """
[pipeline:main]
pipeline = reload hello

[filter:reload]
use = egg:reloadmw
"""


def load(tmp_path, text, name="main"):
    ini = tmp_path / "site" / "development.ini"
    ini.parent.mkdir(exist_ok=True)
    ini.write_text(textwrap.dedent(text) + APP)
    return loadapp(f"config:{ini}", name=name)


def test_pipeline_with_egg_filter(tmp_path):
    app = load(
        tmp_path,
        """
        [pipeline:main]
        pipeline = reload hello

        [filter:reload]
        use = egg:reloadmw
        interval = 0.25
        hook = exit
        extra_files =
            templates/*.html
            ../shared.ini
        exclude = *.tmp
        include_site_packages = yes
        """,
    )
    assert isinstance(app, ReloadMiddleware)
    assert app.options.interval == 0.25
    assert isinstance(app._hook_spec, hooks.Exit)
    watched = app.watched_files
    assert os.path.join(str(tmp_path), "shared.ini") in watched  # relative to the ini's directory
    assert TestApp(app).get("/", extra_environ={"SERVER_SOFTWARE": "x"}).body == b"hello"


def test_filter_with(tmp_path):
    app = load(
        tmp_path,
        """
        [app:main]
        use = call:tests.apps.hello:app_factory
        filter-with = reload

        [filter:reload]
        use = egg:reloadmw
        interval = 2
        """,
    )
    assert isinstance(app, ReloadMiddleware)
    assert app.options.interval == 2


def test_filter_app_section(tmp_path):
    app = load(
        tmp_path,
        """
        [filter-app:main]
        use = egg:reloadmw
        next = hello
        enabled = false
        """,
    )
    assert isinstance(app, ReloadMiddleware)
    assert app.options.enabled is False
    assert TestApp(app).get("/").body == b"hello"


def test_unknown_key_fails_at_load_time_listing_the_valid_ones(tmp_path):
    with pytest.raises(
        ValueError, match=r"'intervall'.*valid options are: backend, enabled, exclude"
    ):
        load(tmp_path, PIPELINE + "intervall = 1\n")


@pytest.mark.parametrize(
    ("line", "pattern"),
    [
        ("interval = soon", r"'interval'.*'soon'"),
        ("hook = apache", r"'hook'.*'apache'"),
        ("hook = no_such_module_anywhere:restart", r"'hook'.*cannot import"),
        ("enabled = perhaps", r"'enabled'.*'perhaps'"),
    ],
)
def test_bad_values_fail_at_load_time(tmp_path, line, pattern):
    with pytest.raises(ValueError, match=pattern):
        load(tmp_path, PIPELINE + line + "\n")


DEFAULTS = "[DEFAULT]\ninterval = 9\n" + PIPELINE


@pytest.mark.parametrize(
    ("line", "interval"),
    [("", 9), ("set interval = 3", 3), ("interval = 3", 9)],
    ids=["default-applies", "set-overrides", "plain-key-is-dropped-by-pastedeploy"],
)
def test_keys_that_default_defines_need_set(tmp_path, line, interval):
    app = load(tmp_path, DEFAULTS + line + "\n")
    assert app.options.interval == interval


def test_factories_directly(tmp_path):
    here = str(tmp_path)
    make = filter_factory({"here": here}, interval="0", extra_files="a.txt")
    middleware = make(lambda environ, start_response: [])
    assert middleware.options.interval == 0
    assert os.path.join(here, "a.txt") in middleware.watched_files
    wrapped = filter_app_factory(lambda e, s: [], {"here": here}, enabled="no")
    assert wrapped.options.enabled is False


# -- an ini file's own logging, as pserve sets it up -------------------------------------


@pytest.fixture
def logging_kept():
    """The logging configuration as it was, back after the test."""
    import logging

    root = logging.getLogger()
    saved = root.handlers[:], root.level, dict(logging.Logger.manager.loggerDict)
    yield
    for handler in set(root.handlers) - set(saved[0]):
        handler.close()
    root.handlers[:], root.level = saved[0], saved[1]
    for name in set(logging.Logger.manager.loggerDict) - set(saved[2]):
        logging.Logger.manager.loggerDict.pop(name)


LOGGING = """
[loggers]
keys = root, myapp

[handlers]
keys = file

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = file

[logger_myapp]
level = DEBUG
handlers =
qualname = myapp

[handler_file]
class = FileHandler
args = ('%(here)s/app.log', 'a')
formatter = generic

[formatter_generic]
format = %(levelname)s [%(name)s] %(message)s
"""


def test_an_ini_files_loggers_are_set_up_as_pserve_does(tmp_path, logging_kept):
    import logging

    from reloadmw.loading import paste

    existing = logging.getLogger("already.there")
    ini = tmp_path / "development.ini"
    ini.write_text(textwrap.dedent(LOGGING))
    assert paste.setup_logging(str(ini)) is True
    logging.getLogger("myapp.views").debug("the view ran")
    existing.warning("kept")
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert (tmp_path / "app.log").read_text().splitlines() == [
        "DEBUG [myapp.views] the view ran",
        "WARNING [already.there] kept",
    ]


def test_an_ini_file_without_loggers_changes_nothing(tmp_path, logging_kept):
    import logging

    from reloadmw.loading import paste

    before = logging.getLogger().handlers[:]
    ini = tmp_path / "development.ini"
    ini.write_text("[app:main]\nuse = call:hello:app_factory\n")
    assert paste.setup_logging(str(ini)) is False
    assert logging.getLogger().handlers == before


def test_broken_logging_sections_are_an_error_that_names_the_file(tmp_path, logging_kept):
    from reloadmw.loading import paste

    ini = tmp_path / "development.ini"
    ini.write_text(textwrap.dedent(LOGGING).replace("keys = file", "keys = nosuch", 1))
    with pytest.raises(ValueError, match=r"development\.ini: its logging sections .* do not load"):
        paste.setup_logging(str(ini))
