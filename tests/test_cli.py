"""The command line: generated from the option declarations, checked before anything starts."""

from __future__ import annotations

import pytest

from reloadmw import cli
from reloadmw.options import Options, ServeSettings, declarations


def flags_of(parser) -> set[str]:
    serve = parser._subparsers._group_actions[0].choices["serve"]
    return {flag for action in serve._actions for flag in action.option_strings}


def test_every_declared_flag_is_on_the_command_line():
    flags = flags_of(cli.parser())
    for cls in (ServeSettings, Options):
        for each, declaration in declarations(cls):
            if declaration.flag:
                assert declaration.flag in flags, each.name
    assert {"--no-syntax-check", "--no-include-site-packages"} <= flags
    assert "--hook" not in flags and "--replay" not in flags  # serve has its own hook


def test_flags_become_settings_and_options(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    seen = {}

    def fake_serve(target, settings, options):
        seen.update(target=target, settings=settings, options=options)
        return 0

    monkeypatch.setattr(cli, "serve", fake_serve)
    status = cli.main(
        ["serve", "app.py", "--port", "8123", "--interval", "0.25", "--extra-file", "t/*.html",
         "--extra-file", "x.ini", "--no-syntax-check", "--on-change", "retry"]
    )  # fmt: skip
    assert status == 0
    assert seen["target"] == "app.py"
    assert seen["settings"] == ServeSettings(port=8123)
    options = seen["options"]
    assert (options.interval, options.syntax_check, options.on_change) == (0.25, False, "retry")
    assert options.extra_files == (str(tmp_path / "t/*.html"), str(tmp_path / "x.ini"))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--port", "70000"], "expected a port number from 0 to 65535, got '70000'"),
        (["--interval", "soon"], "'--interval': expected auto or a finite number of seconds"),
        (["--backend", "fanotify"], "invalid choice: 'fanotify'"),
        (["--server", "gunicorn"], "invalid choice: 'gunicorn'"),
    ],
)
def test_bad_flags_are_one_line_and_status_2(capsys, arguments, message):
    with pytest.raises(SystemExit) as info:
        cli.main(["serve", "app.py", *arguments])
    assert info.value.code == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


def test_help_shows_each_flag_with_plain_text(capsys):
    with pytest.raises(SystemExit):
        cli.main(["serve", "--help"])
    text = capsys.readouterr().out
    assert "--extra-file" in text and "``" not in text and ":class:" not in text
