"""Every command that README.md and docs/ print runs here, exactly as printed.

A command is a line of a ```sh block in README.md or of a ``.. code-block:: sh``
in a page; each is read from the page's own source (never retyped) and run with
``bash -c`` from a copy of the project's root, the directory every page names,
with the interpreter's scripts first on PATH (the virtual environment the pages
say to use). ``PRINTED_AND_RUN`` says which test runs each one, and a test fails
when a page prints a command that no test runs, or hides one in a plain
literal block. Each test also asserts what the page says happens.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import support

pytestmark = pytest.mark.linux

ROOT = Path(__file__).resolve().parent.parent
PORT = 8000  # the pages' own port

#: Each printed command (its first words suffice), and the test that runs it.
PRINTED_AND_RUN = {
    "python3 -m venv .venv && .venv/bin/python -m pip install -e . && .venv/bin/reloadmw serve":
        "test_the_first_command_installs_and_serves_the_example",
    "bash tests/install.sh && .venv/bin/python -m pytest": "test_the_test_command_is_what_ci_runs",
    ".venv/bin/python -m sphinx -W docs docs/_build/html": "test_the_docs_build_command",
    "reloadmw serve docs/examples/hello.py": "test_reloadmw_serve",
    "reloadmw files docs/examples/hello.py": "test_reloadmw_files",
    "reloadmw serve config:docs/examples/development.ini": "test_reloadmw_serve_an_ini_file",
    "gunicorn --workers 2": "test_gunicorn",
    "uwsgi --ini docs/examples/uwsgi.ini": "test_uwsgi",
    "while python docs/examples/wsgiref_main.py": "test_wsgiref_under_a_shell_loop",
    "supervisord -c docs/examples/supervisord.conf": "test_wsgiref_under_supervisord",
    "mod_wsgi-express start-server": "test_mod_wsgi_express",
    "mod_wsgi-express module-config": "test_mod_wsgi_express_module_config",
    ".venv/bin/python -m tests.benchmarks": "test_the_benchmark_command",
    "reloadmw serve docs/examples/flask_app.py": "test_flask",
    "reloadmw serve config:docs/examples/pyramid.ini": "test_pyramid",
    "PYTHONPATH=docs/examples/djangosite reloadmw serve": "test_django",
    "reloadmw serve docs/examples/live_site.py": "test_live_reload",
    # Getting started: in a project of the reader's own, in its own environment.
    "python -m pip install ../reloadmw": "test_django_project",
    "reloadmw serve mysite.wsgi:application": "test_django_project",
    "python manage.py migrate": "test_django_project",
    "reloadmw serve flaskr": "test_flask_project",
    "reloadmw serve config:development.ini": "test_pyramid_project",
}  # fmt: skip


def pages() -> list[Path]:
    docs = ROOT / "docs"
    rst = (p for p in docs.rglob("*.rst") if not any(part.startswith("_") for part in p.parts))
    return [ROOT / "README.md", *sorted(rst)]


def commands_of(page: Path) -> list[str]:
    """The lines of the page's shell blocks (a block in a numbered step included)."""
    text = page.read_text()
    if page.suffix == ".md":
        blocks = re.findall(r"^```sh\n(.*?)^```", text, re.M | re.S)
        return [line for block in blocks for line in block.splitlines() if line.strip()]
    found = []
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if line.strip() == ".. code-block:: sh":
            indent = len(line) - len(line.lstrip())
            for body in lines[number + 2 :]:
                if body.strip() and len(body) - len(body.lstrip()) <= indent:
                    break
                if body.strip():
                    found.append(body.strip())
    return found


#: How a page names the environment its commands run in: reloadmw's own checkout's
#: ``.venv`` (the first command's, where the test command installs every server), or the
#: reader's own project's (Getting started). The runner below takes it from the page.
ENVIRONMENTS = {
    "in the virtual environment `.venv`": "checkout",
    "in your project's virtual environment": "yours",
}
#: The programs each may run: a script of that environment, or what a shell has.
SHELL = {"bash", "[", ":", "done"}
PROGRAMS = {
    "checkout": {"python", "reloadmw", "gunicorn", "uwsgi", "mod_wsgi-express", "supervisord"},
    "yours": {"python", "reloadmw"},
}


def environment_of(page: Path) -> str | None:
    """The environment that the page names for its commands, if it names one."""
    text = " ".join(page.read_text().replace("``", "`").split())
    named = {kind for phrase, kind in ENVIRONMENTS.items() if phrase in text}
    assert len(named) <= 1, f"{page.name} names two environments: {named}"
    return named.pop() if named else None


def programs_of(command: str) -> list[str]:
    """The programs a one-line shell command runs, first words past assignments and
    keywords."""
    found = []
    for part in re.split(r"&&|\|\||;|\|", command):
        words = [w for w in part.split() if not re.match(r"^\w+=", w)]
        while words and words[0] in ("while", "do", "until", "then"):
            words.pop(0)
        if words:
            found.append(words[0])
    return found


def printed(start: str) -> str:
    """The one printed command that starts with ``start``, exactly as its page has it."""
    matches = {c for page in pages() for c in commands_of(page) if c.startswith(start)}
    assert len(matches) == 1, f"{start!r}: {matches}"
    return matches.pop()


def test_every_printed_command_is_run_by_a_test():
    every = {(page.name, c) for page in pages() for c in commands_of(page)}
    for page, command in every:
        runs = [test for start, test in PRINTED_AND_RUN.items() if command.startswith(start)]
        assert len(runs) == 1, f"{page} prints {command!r}, which no test runs"
        from tests import test_getting_started

        assert runs[0] in globals() or hasattr(test_getting_started, runs[0]), runs[0]
    for start in PRINTED_AND_RUN:
        assert any(c.startswith(start) for _, c in every), f"no page prints {start!r} any more"


def test_no_page_hides_a_command_in_a_plain_literal_block():
    """Plain ``::`` blocks are not read above: a page uses a code-block with a language."""
    for page in pages()[1:]:
        for number, line in enumerate(page.read_text().splitlines(), 1):
            bare = line.rstrip().endswith("::") and not line.lstrip().startswith(".. ")
            assert not bare, f"{page.name}:{number}: use a code-block (sh for commands)"


def test_every_page_with_a_command_names_the_directory():
    for page in pages():
        if commands_of(page):
            root = "from your project's root" if environment_of(page) == "yours" else (
                "from the project's root")  # fmt: skip
            assert root in page.read_text().replace("\n", " ").lower(), page.name


def test_every_command_uses_the_environment_its_page_names():
    """A page with commands names one environment, and each command runs what that
    environment has: a script installed there (``.venv/bin/`` written out, or bare, with the
    environment activated), or the shell's; Debian's ``python3`` only to make ``.venv``."""
    for page in pages():
        commands = commands_of(page)
        if not commands:
            continue
        kind = environment_of(page)
        assert kind, f"{page.name} does not say which virtual environment its commands use"
        for command in commands:
            for program in programs_of(command):
                if kind == "checkout" and program.startswith(".venv/bin/"):
                    program = program.removeprefix(".venv/bin/")
                    assert (Path(sys.prefix) / "bin" / program).exists(), (page.name, command)
                elif not (kind == "checkout" and command.startswith("python3 -m venv .venv ")):
                    allowed = PROGRAMS[kind] | SHELL
                    assert program in allowed, f"{page.name}: {command!r} runs {program}"


# -- running them ---------------------------------------------------------------------


def copy_checkout(copy: Path) -> None:
    """The project's files (what git tracks, and what it would add) in ``copy``."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    for name in listed:
        if (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)


@pytest.fixture
def project() -> Iterator[Path]:
    """A copy of the project's files, readable by any user (Apache's daemons' too).

    ``.venv`` in it is the environment running the tests, as after the test command.
    """
    top = Path(tempfile.mkdtemp(prefix="reloadmw-project-"))
    copy = top / "reloadmw"
    copy_checkout(copy)
    (copy / ".venv").symlink_to(sys.prefix, target_is_directory=True)
    for path in [top, *top.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)
    yield copy
    shutil.rmtree(top, ignore_errors=True)


def environment(**more: str) -> dict[str, str]:
    scripts = sysconfig.get_path("scripts")
    return {"PATH": f"{scripts}{os.pathsep}{os.environ['PATH']}", "RELOADMW_DISABLE": "", **more}


def run(
    project: Path, command: str, timeout: float = 60, **env: str
) -> subprocess.CompletedProcess[str]:
    """``command`` under bash, to its end; its output."""
    return subprocess.run(
        ["bash", "-c", command], cwd=project, env=environment(**env), capture_output=True,
        text=True, timeout=timeout,
    )  # fmt: skip


def shell(server_factory, project: Path, command: str, **options: object) -> support.Server:
    """``command`` under bash in its own process group, stopped as Ctrl-C stops it."""
    return server_factory(
        ["bash", "-c", command],
        port=PORT,
        cwd=project,
        env=environment(),
        group=True,
        stop_signal=signal.SIGINT,
        **options,
    )


def edit_message(project: Path, text: str, module: str = "docs/examples/hello.py") -> None:
    hello = project / module
    source = hello.read_text()
    [line] = [line for line in source.splitlines() if line.startswith("MESSAGE = ")]
    support.write(hello, source.replace(line, f"MESSAGE = {text!r}"))


def pid_of(response: support.Response) -> str:
    found = re.search(r"Served by process (\d+)", response.text)
    assert found, response.text
    return found.group(1)


def assert_edits_show(
    project: Path, module: str = "docs/examples/hello.py", within: float = 15.0
) -> None:
    """The page, then an edit of MESSAGE, then the new text from another process."""
    before = support.get(PORT)
    assert "Hello from " in before.text
    edit_message(project, "Edited by the test", module)
    after = support.wait_for(
        lambda: "Edited by the test" in (r := support.get(PORT)).text and r,
        within,
        what="the edited text",
    )
    assert pid_of(after) != pid_of(before)


@pytest.mark.server
def test_the_first_command_installs_and_serves_the_example(server_factory, project):
    """The README's and the docs' first command: a new virtual environment, then serve."""
    command = printed("python3 -m venv .venv")
    assert command in (ROOT / "docs" / "index.rst").read_text()
    (project / ".venv").unlink()  # made by the command itself, with whichever python3
    server = shell(server_factory, project, command, startup_timeout=300)
    assert_edits_show(project)
    assert (project / ".venv" / "bin" / "reloadmw").exists()
    assert "restarted in" in server.log()


def test_the_test_command_is_what_ci_runs():
    """CI runs the README's test command as printed; it runs this whole suite."""
    command = printed("bash tests/install.sh")
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == command


@pytest.mark.docs
def test_the_docs_build_command(project):
    """With the pages generated from the code: the option table, serve's flags, the diagram."""
    from reloadmw.options import Options, ServeSettings, declarations

    command = printed(".venv/bin/python -m sphinx")
    result = run(project, command, timeout=300)
    assert result.returncode == 0, result.stderr
    html = project / "docs" / "_build" / "html"
    configuration = (html / "configuration.html").read_text()
    serve_page = (html / "serve.html").read_text()
    for cls in (Options, ServeSettings):
        for each, declaration in declarations(cls):
            if cls is Options:
                assert f'<span class="pre">{each.name}</span>' in configuration, each.name
            if declaration.flag:
                assert declaration.flag in serve_page, declaration.flag
    diagrams = " ".join(p.read_text() for p in (html / "_images").glob("graphviz-*.svg"))
    for module in ("middleware", "check", "watch.watcher", "hooks.choose", "serve.supervisor"):
        assert f">{module}</text>" in diagrams, module


@pytest.mark.server
def test_reloadmw_serve(server_factory, project):
    server = shell(server_factory, project, printed("reloadmw serve docs/examples/hello.py"))
    assert_edits_show(project)
    log = server.log()
    assert re.search(r"pid \d+ serving, 1 file watched in docs/examples/\n", log), log
    assert re.search(r"restarted in \d\.\d\ds after a change in \S+/docs/examples/hello.py", log)


def test_reloadmw_files(project):
    """Its output begins as the page shows it."""
    command = printed("reloadmw files")
    result = run(project, command, timeout=60)
    assert result.returncode == 0, result.stderr
    page = (ROOT / "docs" / "serve.rst").read_text()
    shown = page[page.index(command) :].split(".. code-block:: text", 1)[1]
    expected = [line.strip() for line in shown.strip().splitlines()[:4]]
    assert [line.strip() for line in result.stdout.splitlines()[:4]] == expected


@pytest.mark.server
def test_reloadmw_serve_an_ini_file(server_factory, project):
    server = shell(
        server_factory, project, printed("reloadmw serve config:docs/examples/development.ini")
    )
    assert_edits_show(project)
    assert "restarted in" in server.log()


@pytest.mark.server
def test_gunicorn(server_factory, project):
    shell(server_factory, project, printed("gunicorn "))
    assert_edits_show(project)


@pytest.mark.server
def test_uwsgi(server_factory, project):
    shell(server_factory, project, printed("uwsgi "))
    assert_edits_show(project)


@pytest.mark.server
def test_wsgiref_under_a_shell_loop(server_factory, project):
    """The exit hook ends the process after the response; the loop starts it again."""
    server = shell(server_factory, project, printed("while python docs/examples/wsgiref_main.py"))
    assert_edits_show(project)
    server.stop()
    assert server.process is not None and server.process.returncode != 3


@pytest.mark.server
def test_wsgiref_under_supervisord(server_factory, project):
    server = shell(server_factory, project, printed("supervisord "))
    assert_edits_show(project)
    assert re.search(r"exited: site \(exit status 3; not expected\)", server.log()), server.log()


@pytest.mark.server
def test_mod_wsgi_express(server_factory, project):
    """As the page says: the first page after an edit is fresh (as nobody, when root)."""
    from tests.servers.apache import express_venv

    command = printed("mod_wsgi-express start-server")
    env = environment(PATH=f"{express_venv() / 'bin'}{os.pathsep}{os.environ['PATH']}")
    env |= {"HOME": str(project), "LANG": "C.UTF-8"}
    # Apache's daemons will not run as root, so neither does the developer here.
    prefix = ["runuser", "-u", "nobody", "--"] if os.getuid() == 0 else []
    server = server_factory(
        [*prefix, "env", *(f"{k}={v}" for k, v in env.items()), "bash", "-c", command],
        port=PORT,
        cwd=project,
    )
    support.get(PORT)
    edit_message(project, "Edited by the test")
    time.sleep(1.1)  # the example's interval
    fresh = support.get(PORT)
    assert "Edited by the test" in fresh.text, server.log()


def test_mod_wsgi_express_module_config(project):
    """What the Windows page's httpd.conf takes its first lines from (here, Linux's)."""
    from tests.servers.apache import express_venv

    command = printed("mod_wsgi-express module-config")
    path = f"{express_venv() / 'bin'}{os.pathsep}{os.environ['PATH']}"
    result = run(project, command, PATH=path)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^LoadModule wsgi_module \"\S+/mod_wsgi\S+\.so\"$", result.stdout, re.M)
    assert "WSGIPythonHome" in result.stdout


@pytest.mark.bench
@pytest.mark.server
def test_the_benchmark_command(project):
    """Run as printed, at the small sizes of ``--quick`` (RELOADMW_BENCH_QUICK=1):
    every benchmark runs and writes its files; the full sizes take ten minutes."""
    command = printed(".venv/bin/python -m tests.benchmarks")
    out = project / "docs" / "benchmarks"
    written = sorted(p.name for p in out.iterdir())
    for name in written:
        (out / name).unlink()
    result = run(project, command, timeout=590, RELOADMW_BENCH_QUICK="1")
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in out.iterdir()) == written  # what the pages include
    for name in written:
        assert (out / name).stat().st_size > 0, name
        if name.endswith(".txt"):  # each says when, and on what
            first = (out / name).read_text().splitlines()[0]
            when = r"Measured on \d{4}-\d\d-\d\d by \.venv/bin/python -m tests\.benchmarks: "
            assert re.match(when + r"Python 3\.\d+\.\d+ on \S+ Linux, \d+ cores$", first), first


@pytest.mark.server
def test_flask(server_factory, project):
    shell(server_factory, project, printed("reloadmw serve docs/examples/flask_app.py"))
    assert "Hello from Flask!" in support.get(PORT).text
    assert_edits_show(project, "docs/examples/flask_app.py")


@pytest.mark.server
def test_pyramid(server_factory, project):
    shell(server_factory, project, printed("reloadmw serve config:docs/examples/pyramid.ini"))
    assert "Hello from Pyramid!" in support.get(PORT).text
    assert_edits_show(project, "docs/examples/pyramid_app.py")


@pytest.mark.server
def test_django(server_factory, project):
    """A view's edit and a template's edit show; the stylesheet is served."""
    shell(server_factory, project, printed("PYTHONPATH=docs/examples/djangosite"))
    site = "docs/examples/djangosite/mysite"
    assert "Hello from Django!" in support.get(PORT).text
    assert_edits_show(project, f"{site}/views.py")
    assert "color:" in support.get(PORT, "/static/site.css").text
    template = project / site / "templates" / "page.html"
    support.write(template, template.read_text().replace("Served by", "Sent by"))
    support.wait_for(lambda: "Sent by process" in support.get(PORT).text, 15, what="the template")


@pytest.mark.server
def test_live_reload(server_factory, project):
    """In a browser: the stylesheet's edit restyles the page in place, the code's reloads it."""
    from tests.support import browser

    shell(server_factory, project, printed("reloadmw serve docs/examples/live_site.py"))
    color = "getComputedStyle(document.querySelector('h1')).color"
    with browser.browser() as launched:
        tab = browser.open_tab(launched, f"http://127.0.0.1:{PORT}/")
        assert tab.page.evaluate(color) == "rgb(30, 90, 160)"
        tab.page.evaluate("window.marker = 'kept'")
        css = project / "docs/examples/static/site.css"
        support.write(css, css.read_text().replace("rgb(30, 90, 160)", "rgb(190, 40, 40)"))
        tab.page.wait_for_function(f"{color} === 'rgb(190, 40, 40)'", timeout=10_000)
        assert tab.page.evaluate("window.marker") == "kept"
        site = project / "docs/examples/live_site.py"
        support.write(site, site.read_text().replace('"Live reload"', '"Live reload, edited"'))
        tab.wait_for_text("h1", "Live reload, edited", timeout=15)
        assert tab.page.evaluate("window.marker") is None
