"""Templates are watched without being named: the framework says where they are, and an
edit makes it read them again in the same process, and reloads an open page.

Before, a template edit showed nothing (no restart, no warning) until the user named the
templates with ``--extra-file``; Django's cached loader kept the old one."""

from __future__ import annotations

import json
import re
import shutil
import sys
import time

import pytest

from tests import support
from tests.support import realsites

pytestmark = pytest.mark.server

DJANGO = support.APPS.parent.parent / "docs" / "examples" / "djangosite"


def serve(server_factory, cwd, target: str, env: dict[str, str] | None = None):
    port = support.free_port()
    argv = [sys.executable, "-m", "reloadmw", "serve", target, "--port", str(port)]
    return server_factory(argv, port=port, cwd=cwd, env=env, startup_timeout=90)


def poll(server: support.Server, page: str) -> dict[str, object]:
    """What the live-reload script of ``page`` hears now."""
    generation, version, broken = re.search(r'data-reloadmw="(\d+)\.(\d+)\.(\w*)"', page).groups()
    asked = f"/__reloadmw__/poll?g={generation}&v={version}&b={broken}"
    return json.loads(support.get(server.port, asked).text)


def edit_shows_in_the_same_process(server, template, old: str, new: str, path: str = "/"):
    page = support.get(server.port, path).text
    assert old in page and poll(server, page) == {}
    pids = re.findall(r"pid (\d+) serving", server.log())
    time.sleep(0.05)
    support.write(template, template.read_text().replace(old, new), whole=True)
    assert poll(server, page) == {"reload": True}, server.log()  # the open page reloads
    fresh = support.get(server.port, path)
    assert (fresh.status, new in fresh.text) == (200, True), fresh.text[:2000]
    assert re.findall(r"pid (\d+) serving", server.log()) == pids  # no restart
    assert "templates read again, no restart" in server.log()


def test_a_django_template_edit_shows_without_a_restart(workdir, server_factory):
    shutil.copytree(DJANGO, workdir / "djangosite")
    site = workdir / "djangosite"
    server = serve(server_factory, site, "mysite.wsgi:application")
    template = site / "mysite" / "templates" / "page.html"
    edit_shows_in_the_same_process(server, template, "Served by process", "Sent by process")


@pytest.mark.parametrize(
    ("project", "template", "old", "new", "path"),
    [
        ("flaskr", "flaskr/templates/base.html", ">Flaskr</a></h1>", ">Flaskr 2</a></h1>", "/"),
        ("pyramid", "cc_starter/templates/layout.jinja2", "</head>", "<!-- 2 --></head>", "/"),
        ("wagtail", "wsite/templates/base.html", "</head>", "<!-- 2 --></head>", "/"),
    ],
)
def test_a_real_projects_template_edit_shows_without_a_restart(
    workdir, server_factory, project, template, old, new, path
):
    site = realsites.copy(project, workdir)
    server = serve(server_factory, site.root, site.target, env=site.environment())
    edit_shows_in_the_same_process(server, site.root / template, old, new, path)


def test_a_module_imported_at_a_request_in_pyramids_template_path_restarts(
    workdir, server_factory
):
    """Pyramid's search path is the whole package: a module that ``config.scan()`` skips
    and a view imports when it is first called is code, whose edit restarts (it was read
    again as a template, and the old code stayed)."""
    site = realsites.copy("pyramid", workdir)
    package = site.root / "cc_starter"
    setup = package / "__init__.py"
    setup.write_text(setup.read_text().replace("config.scan()", "config.scan(ignore='.words')"))
    support.write(package / "words.py", "WORD = 'first'\n")
    view = package / "views" / "default.py"
    view.write_text(
        view.read_text().replace(
            "    return {", "    from ..words import WORD\n\n    return {'project': WORD} or {"
        )
    )
    server = serve(server_factory, site.root, site.target, env=site.environment())
    assert "first" in support.get(server.port, "/").text  # (words.py imported now)
    support.write(package / "words.py", "WORD = 'second'\n")
    fresh = support.get(server.port, "/")
    assert (fresh.status, "second" in fresh.text) == (200, True), server.log()
    assert "restarted in" in server.log()
