"""Options: converters, the one declaration, and building from Python, ini strings and JSON."""

from __future__ import annotations

import math
import re

import pytest

from reloadmw import ReloadMiddleware, converters, options
from reloadmw.options import Options, declarations


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
    assert converters.asbool("enabled", text) is expected


@pytest.mark.parametrize("value", ["maybe", "", "2", None, 1])
def test_asbool_rejects_anything_else_naming_option_and_value(value):
    with pytest.raises(ValueError, match=rf"'enabled'.*{value!r}"):
        converters.asbool("enabled", value)


def test_aslist_splits_on_whitespace_and_newlines():
    assert converters.aslist("exclude", "a.py  b/*.py\n\n  c/**\n") == ("a.py", "b/*.py", "c/**")


def test_aslist_takes_sequences_of_strings_and_paths(tmp_path):
    assert converters.aslist("extra_files", [tmp_path, "x"]) == (str(tmp_path), "x")


@pytest.mark.parametrize("value", [3, b"a b", ["ok", 3], [None]])
def test_aslist_rejects_non_strings_naming_option(value):
    with pytest.raises(TypeError, match=r"'exclude'"):
        converters.aslist("exclude", value)


@pytest.mark.parametrize(("value", "expected"), [(0, 0.0), (1, 1.0), ("2.5", 2.5), (" 0 ", 0.0)])
def test_asinterval_reads_numbers(value, expected):
    assert converters.asinterval("interval", value) == expected


@pytest.mark.parametrize("value", [-1, "-0.5", math.nan, "nan", math.inf, "abc", "", True])
def test_asinterval_rejects_bad_numbers_naming_option_and_value(value):
    with pytest.raises(ValueError, match=r"'interval'.*seconds") as info:
        converters.asinterval("interval", value)
    assert repr(value) in str(info.value)


@pytest.mark.parametrize("value", [None, [1], object()])
def test_asinterval_rejects_non_numbers_with_type_error(value):
    with pytest.raises(TypeError, match=r"'interval'"):
        converters.asinterval("interval", value)


def test_ini_strings_convert_every_option(tmp_path):
    options = Options.from_ini(
        {
            "interval": "0.5",
            "hook": " exit ",
            "extra_files": "a.ini\n b.html",
            "exclude": "*.tmp",
            "include_site_packages": "yes",
            "enabled": "off",
            "syntax_check": "no",
            "on_change": "RETRY",
            "backend": "inotify",
        },
        {"here": str(tmp_path)},
    )
    assert options == Options(
        interval=0.5,
        hook="exit",
        extra_files=(str(tmp_path / "a.ini"), str(tmp_path / "b.html")),
        exclude=("*.tmp",),
        include_site_packages=True,
        enabled=False,
        syntax_check=False,
        on_change="retry",
        backend="inotify",
    )


def test_relative_extra_files_resolve_once_against_the_base(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert Options.build({"extra_files": ["t/*.html"]}).extra_files == (
        str(tmp_path / "t/*.html"),
    )
    built = Options.build({"extra_files": "x.ini"}, base="/srv/site")
    assert built.extra_files == ("/srv/site/x.ini",)
    assert Options.build({"extra_files": built.extra_files}) == built  # absolute stays


def test_a_default_section_value_reaches_the_filter_only_through_global_conf():
    options = Options.from_ini({}, {"interval": "3", "here": "/srv", "unrelated": "x"})
    assert options.interval == 3.0
    assert Options.from_ini({"interval": "2"}, {"interval": "3"}).interval == 2.0


def test_unknown_keys_are_named_with_the_valid_ones():
    with pytest.raises(ValueError, match="unknown reloadmw options") as info:
        Options.from_ini({"intervall": "1", "hooks": "exit"}, {})
    message = str(info.value)
    assert "'hooks', 'intervall'" in message
    for each, _ in declarations(Options):
        assert each.name in message


def test_bad_values_name_the_key():
    with pytest.raises(ValueError, match=r"'include_site_packages'.*'sometimes'"):
        Options.from_ini({"include_site_packages": "sometimes"}, {})


def test_options_travel_to_a_server_process_as_json_without_the_hook():
    options = Options.build({"interval": 0.2, "exclude": ["*.tmp"], "hook": "exit"})
    again = Options.from_json(options.to_json())
    assert again == Options.build({"interval": 0.2, "exclude": ["*.tmp"]})


def test_the_environment_turns_every_middleware_off(monkeypatch):
    monkeypatch.setenv("RELOADMW_DISABLE", "1")
    assert Options.build({"enabled": True}).enabled is False
    assert ReloadMiddleware(app).options.enabled is False


def test_options_or_keywords_not_both():
    with pytest.raises(TypeError, match="not both"):
        ReloadMiddleware(app, options=Options(), interval=1)


def test_every_option_is_documented_and_converts_its_own_default():
    for each, declaration in declarations(Options):
        assert declaration.doc.endswith(".") and declaration.kind
        assert declaration.convert(each.name, each.default) == each.default


@pytest.mark.parametrize(
    ("value", "disabled"), [("", False), ("0", False), ("1", True), ("yes", True), ("false", True)]
)
def test_disable_variable(value, disabled):
    assert converters.disabled_by_environment({"RELOADMW_DISABLE": value}) is disabled


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


@pytest.mark.parametrize("value", ["soon", "0", "-1", "nan", "inf"])
def test_a_bad_handoff_timeout_fails_the_build_naming_it(monkeypatch, value):
    monkeypatch.setenv("RELOADMW_HANDOFF_TIMEOUT", value)
    expected = f"RELOADMW_HANDOFF_TIMEOUT={value!r}: expected a positive number of seconds"
    with pytest.raises(ValueError, match=re.escape(expected)):
        ReloadMiddleware(lambda environ, start_response: [])


def test_the_handoff_timeout_from_the_environment(monkeypatch):
    monkeypatch.setenv("RELOADMW_HANDOFF_TIMEOUT", " 2.5 ")
    assert options.handoff_timeout() == 2.5
    monkeypatch.delenv("RELOADMW_HANDOFF_TIMEOUT")
    assert options.handoff_timeout() == options.HANDOFF_TIMEOUT
