"""Live reload in-process: the tag in pages, the answers under /__reloadmw__/, the options."""

from __future__ import annotations

import importlib
import json
import logging
import re

import pytest
from webtest import TestApp

from reloadmw import Options, ReloadMiddleware, hooks, live
from reloadmw.cli import parser
from tests.support import write

ENVIRON = {"SERVER_SOFTWARE": "gunicorn/23.0.0", "REMOTE_ADDR": "127.0.0.1"}
PAGE = b"<!doctype html><html><body><h1>page</h1></body></html>"


def page(environ, start_response):
    length = ("Content-Length", str(len(PAGE)))
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), length])
    return [PAGE]


class ServeLike(hooks.Hook):
    """A hook where live_reload=None means on, as reloadmw serve's; records restarts."""

    name = "serve-like"
    successor = "new"  # (no forward: the old code answers)

    def __init__(self):
        self.calls = []

    def __call__(self, changed):
        self.calls.append(list(changed))


def built(response) -> tuple[str, str, str]:
    """The generation, version and broken key that a page's tag carries."""
    found = re.search(rb'data-reloadmw="(\d+)\.(\d+)\.(\w*)"', response.body)
    assert found, response.body
    return tuple(part.decode() for part in found.groups())  # type: ignore[return-value]


def poll(app, generation, version="0", broken="", status=200):
    query = {"g": generation, "v": version, "b": broken}
    # (a restart writes its notice to wsgi.errors, which WebTest counts as an error)
    response = app.get("/__reloadmw__/poll", query, status=status, expect_errors=True)
    return response.json if status == 200 else response


@pytest.fixture
def watched(modules):
    path = modules("live_views", "VERSION = 1\n")
    importlib.import_module("live_views")
    return path


def make(**options):
    hook = options.pop("hook", None) or ServeLike()
    middleware = ReloadMiddleware(page, interval=0, settle=0, hook=hook, **options)
    return TestApp(middleware, extra_environ=ENVIRON), hook


def test_a_page_gets_one_tag_that_loads_the_script_from_the_reserved_path():
    app, _ = make(live_reload=True)
    response = app.get("/")
    tags = re.findall(rb"<script [^>]*></script>", response.body)
    assert len(tags) == 1
    assert b'src="/__reloadmw__/live.js"' in tags[0]
    assert response.body.endswith(tags[0] + b"</body></html>")
    script = app.get("/__reloadmw__/live.js")
    assert script.content_type == "text/javascript"
    assert b"reloadmw" in script.body
    assert script.headers["Cache-Control"] == "no-store"


def test_under_a_mount_point_the_tag_names_it():
    app, _ = make(live_reload=True)
    response = app.get("/", extra_environ={"SCRIPT_NAME": "/shop"})
    assert b'src="/shop/__reloadmw__/live.js"' in response.body


def test_off_nothing_changes_and_the_reserved_path_is_the_application_s():
    for options in ({"live_reload": False}, {"live_reload": None, "hook": "exit"}):
        app, _ = make(**options)
        assert app.get("/").body == PAGE
        assert app.get("/__reloadmw__/poll").body == PAGE


def test_auto_is_on_under_a_hook_like_serve_s():
    app, _ = make()
    assert b"data-reloadmw=" in app.get("/").body


def test_a_poll_with_nothing_changed_says_nothing():
    app, hook = make(live_reload=True)
    generation, version, _ = built(app.get("/"))
    assert poll(app, generation, version) == {}
    assert hook.calls == []


def test_a_poll_drives_the_check_and_the_restart_follows_its_answer(watched):
    app, hook = make(live_reload=True)
    generation, version, _ = built(app.get("/"))
    write(watched, "VERSION = 2\n")
    assert poll(app, generation, version) == {"wait": True}  # no fresh answer under this hook
    assert hook.calls == [[str(watched)]]
    assert poll(app, generation, version) == {"wait": True}  # until a new process answers
    assert poll(app, "1", version) == {"wait": True}


def test_a_newer_generation_reloads_the_page():
    app, _ = make(live_reload=True)
    generation, version, _ = built(app.get("/"))
    said = {"reload": True, "generation": generation}  # (the script remembers it)
    assert poll(app, str(int(generation) - 1), version) == said
    assert poll(app, str(int(generation) + 1), version) == {}


def test_a_live_file_reloads_the_page_and_a_stylesheet_is_swapped_without_a_restart(workdir):
    css = write(workdir / "static" / "site.css", "h1 { color: red }")
    note = write(workdir / "note.html", "<p>one</p>")
    app, hook = make(live_reload=True, live_files=[str(workdir / "static/*.css"), str(note)])
    generation, version, _ = built(app.get("/"))
    assert int(version) == max(css.stat().st_mtime_ns, note.stat().st_mtime_ns)
    live.LOOK_EVERY, saved = 0.0, live.LOOK_EVERY
    try:
        write(css, "h1 { color: blue }")
        said = poll(app, generation, version)
        assert said == {"css": True, "version": str(css.stat().st_mtime_ns)}
        assert poll(app, generation, said["version"]) == {}
        write(note, "<p>two</p>")
        assert poll(app, generation, said["version"]) == {"reload": True}
    finally:
        live.LOOK_EVERY = saved
    assert hook.calls == []


def test_a_syntax_error_shows_by_itself_then_its_fix(watched):
    app, hook = make(live_reload=True)
    generation, version, _ = built(app.get("/"))
    write(watched, "VERSION = (\n")
    assert poll(app, generation, version) == {"reload": True}
    diagnostic = app.get("/", headers={"Accept": "text/html"}, status=500)
    assert b"Syntax error in the changed code" in diagnostic.body
    generation, version, broken = built(diagnostic)
    assert broken
    assert poll(app, generation, version, broken) == {"reload": False}
    write(watched, "VERSION = 3\n")
    assert poll(app, generation, version, broken) == {"wait": True}
    assert hook.calls == [[str(watched)]]


def test_answers_name_no_file_even_to_a_local_client(watched, workdir):
    app, _ = make(live_reload=True, live_files=[str(workdir / "*.css")])
    write(watched, "VERSION = (\n")
    for generation in ("0", "1"):
        text = json.dumps(poll(app, generation))
        assert "live_views" not in text
        assert str(workdir) not in text
    assert set(poll(app, "0")) <= {"reload", "wait", "css", "version", "generation"}


@pytest.mark.parametrize(
    ("method", "path", "query", "status"),
    [
        ("POST", "/__reloadmw__/poll", "", 405),
        ("GET", "/__reloadmw__/nothing", "", 404),
        ("GET", "/__reloadmw__/poll", "g=x", 400),
    ],
)
def test_the_reserved_path_answers_only_the_script(method, path, query, status):
    app, _ = make(live_reload=True)
    response = app.request(f"{path}?{query}", method=method, status=status)
    assert b"page" not in response.body


def test_a_nonce_policy_gives_the_tag_the_nonce_and_a_strict_one_keeps_it_out(caplog):
    def with_policy(value):
        def app(environ, start_response):
            start_response("200 OK", [("Content-Type", "text/html"),
                                      ("Content-Security-Policy", value)])  # fmt: skip
            return [PAGE]

        return TestApp(
            ReloadMiddleware(app, live_reload=True, hook=ServeLike()), extra_environ=ENVIRON
        )

    tagged = with_policy("script-src 'nonce-n0nce'").get("/").body
    assert re.search(rb'<script src="/__reloadmw__/live.js" [^>]*nonce="n0nce"', tagged)
    caplog.set_level(logging.DEBUG, logger="reloadmw")
    assert with_policy("default-src 'none'").get("/").body == PAGE
    assert "no live-reload tag in /: its connect-src does not allow" in caplog.text


def test_the_option_in_python_ini_and_on_the_command_line(workdir):
    assert Options.build({"live_reload": "auto"}).live_reload is None
    assert Options.build({"live_reload": "on"}).live_reload is True
    assert Options.build({"live_reload": False}).live_reload is False
    with pytest.raises(ValueError, match=r"'live_reload'.*or auto, got 'sometimes'"):
        Options.build({"live_reload": "sometimes"})
    files = Options.build({"live_files": "static/*.css"}, base=str(workdir)).live_files
    assert files == (str(workdir / "static" / "*.css"),)
    flags = ["--no-live-reload", "--live-file", "a.css", "--live-file", "b.html"]
    given = vars(parser().parse_args(["serve", "app.py", *flags]))
    assert given["live_reload"] is False
    assert given["live_files"] == ["a.css", "b.html"]


def test_an_error_the_application_lets_out_is_a_page_that_reloads_itself():
    # Django's own error handler can fail (its URL module does not import): the server's
    # bare 500 said nothing, and the open page never updated once the code was fixed.
    def failing(environ, start_response):
        raise ImportError("cannot import name 'nothing' from 'views'")

    web = TestApp(ReloadMiddleware(failing, live_reload=True, hook=ServeLike()),
                  extra_environ=ENVIRON)  # fmt: skip
    shown = web.get("/", headers={"Accept": "text/html"}, status=500, expect_errors=True)
    assert shown.html.h1.text == "The application failed to import"
    assert "ImportError: cannot import name 'nothing' from 'views'" in shown.html.pre.text
    assert b'src="/__reloadmw__/live.js"' in shown.body
    remote = TestApp(ReloadMiddleware(failing, live_reload=True, hook=ServeLike()),
                     extra_environ={**ENVIRON, "REMOTE_ADDR": "192.0.2.1"})  # fmt: skip
    with pytest.raises(ImportError):  # any other client: the server's own answer, as before
        remote.get("/")
