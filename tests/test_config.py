"""Option conversion and validation, shared by the Python API and the ini factories."""

from __future__ import annotations

import math

import pytest

from reloadmw import ReloadMiddleware, config


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("Yes", True),
        ("ON", True),
        ("1", True),
        (" true ", True),
        ("false", False),
        ("No", False),
        ("off", False),
        ("0", False),
        (True, True),
        (False, False),
    ],
)
def test_asbool_accepts_the_usual_spellings(text, expected):
    assert config.asbool("enabled", text) is expected


@pytest.mark.parametrize("value", ["maybe", "", "2", None, 1])
def test_asbool_rejects_anything_else_naming_option_and_value(value):
    with pytest.raises(ValueError, match=rf"'enabled'.*{value!r}"):
        config.asbool("enabled", value)


def test_aslist_splits_on_whitespace_and_newlines():
    assert config.aslist("exclude", "a.py  b/*.py\n\n  c/**\n") == ("a.py", "b/*.py", "c/**")


def test_aslist_takes_sequences_of_strings_and_paths(tmp_path):
    assert config.aslist("extra_files", [tmp_path, "x"]) == (str(tmp_path), "x")


@pytest.mark.parametrize("value", [3, b"a b", ["ok", 3], [None]])
def test_aslist_rejects_non_strings_naming_option(value):
    with pytest.raises(TypeError, match=r"'exclude'"):
        config.aslist("exclude", value)


@pytest.mark.parametrize(("value", "expected"), [(0, 0.0), (1, 1.0), ("2.5", 2.5), (" 0 ", 0.0)])
def test_asinterval_reads_numbers(value, expected):
    assert config.asinterval("interval", value) == expected


@pytest.mark.parametrize("value", [-1, "-0.5", math.nan, "nan", math.inf, "abc", "", True])
def test_asinterval_rejects_bad_numbers_naming_option_and_value(value):
    with pytest.raises(ValueError, match=r"'interval'.*seconds") as info:
        config.asinterval("interval", value)
    assert repr(value) in str(info.value)


@pytest.mark.parametrize("value", [None, [1], object()])
def test_asinterval_rejects_non_numbers_with_type_error(value):
    with pytest.raises(TypeError, match=r"'interval'"):
        config.asinterval("interval", value)


def test_parse_settings_converts_every_option():
    options = config.parse_settings(
        {
            "interval": "0.5",
            "hook": " exit ",
            "extra_files": "a.ini\n b.html",
            "exclude": "*.tmp",
            "include_site_packages": "yes",
            "enabled": "off",
        }
    )
    assert options == {
        "interval": 0.5,
        "hook": "exit",
        "extra_files": ("a.ini", "b.html"),
        "exclude": ("*.tmp",),
        "include_site_packages": True,
        "enabled": False,
    }


def test_unknown_keys_are_named_with_the_valid_ones():
    with pytest.raises(ValueError, match="unknown reloadmw options") as info:
        config.parse_settings({"intervall": "1", "hooks": "exit"})
    message = str(info.value)
    assert "'hooks', 'intervall'" in message
    for name in config.OPTIONS:
        assert name in message


def test_bad_values_name_the_key():
    with pytest.raises(ValueError, match=r"'include_site_packages'.*'sometimes'"):
        config.parse_settings({"include_site_packages": "sometimes"})


@pytest.mark.parametrize(
    ("value", "disabled"), [("", False), ("0", False), ("1", True), ("yes", True), ("false", True)]
)
def test_disable_variable(value, disabled):
    assert config.disabled_by_environment({"RELOADMW_DISABLE": value}) is disabled


@pytest.mark.parametrize(
    ("options", "pattern"),
    [
        ({"interval": -1}, r"'interval'.*-1"),
        ({"interval": float("nan")}, r"'interval'.*nan"),
        ({"interval": "soon"}, r"'interval'.*'soon'"),
        ({"hook": "apache"}, r"'hook'.*'apache'.*'mod_wsgi'.*'gunicorn'"),
        (
            {"hook": "no_such_module_here:restart"},
            r"'hook'.*cannot import 'no_such_module_here:restart'",
        ),
        ({"hook": "os:no_such_function"}, r"'hook'.*cannot import 'os:no_such_function'"),
        ({"hook": "signal:SIGNOPE"}, r"'hook'.*'signal:SIGNOPE'"),
        ({"hook": 42}, r"'hook'.*42"),
        ({"extra_files": [1]}, r"'extra_files'.*1"),
        ({"exclude": [None]}, r"'exclude'.*None"),
        ({"include_site_packages": "perhaps"}, r"'include_site_packages'.*'perhaps'"),
        ({"enabled": 2}, r"'enabled'.*2"),
    ],
)
def test_middleware_rejects_bad_options_when_built(options, pattern):
    with pytest.raises((ValueError, TypeError), match=pattern):
        ReloadMiddleware(app, **options)


def test_options_are_checked_even_when_disabled():
    with pytest.raises(ValueError, match="'interval'"):
        ReloadMiddleware(app, interval=-1, enabled=False)


def test_app_must_be_callable():
    with pytest.raises(TypeError, match="WSGI application"):
        ReloadMiddleware("not an app")  # type: ignore[arg-type]
