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
