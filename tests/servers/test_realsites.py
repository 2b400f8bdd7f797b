"""``reloadmw serve`` on real projects from the package registry, as a new user runs them:
a Wagtail site (``wagtail start``), Flask's tutorial (flaskr) and Pyramid's cookiecutter
starter, with the preload template on (the default). See tests/support/realsites.py."""

from __future__ import annotations

import re
import sys
import time

import pytest

from tests import support
from tests.support import realsites

pytestmark = [pytest.mark.server, pytest.mark.linux]


@pytest.fixture
def serve(workdir, server_factory):
    def start(name: str, *flags: str) -> tuple[realsites.Site, support.Server]:
        site = realsites.copy(name, workdir)
        port = support.free_port()
        argv = [sys.executable, "-m", "reloadmw", "serve", site.target, "--port", str(port),
                *flags]  # fmt: skip
        server = server_factory(argv, port=port, cwd=site.root, env=site.environment(),
                                ready_path=site.path, startup_timeout=60)  # fmt: skip
        return site, server

    return start


def template_ready(server: support.Server) -> None:
    support.wait_for(lambda: "preload template pid" in server.log(), 90, what="the template")


def edits_in_a_row(site: realsites.Site, server: support.Server, count: int) -> list[str]:
    """Save ``count`` times; each time, the first request after the save must be answered
    by the new code with a 200. The restart lines."""
    for number in range(1, count + 1):
        time.sleep(1.0)  # a developer's pause; the template takes in what the last one loaded
        site.save(number)
        first = support.get(server.port, site.path, timeout=30)
        assert (first.status, site.expect(number) in first.text) == (200, True), (
            f"edit {number}: {first.status} {first.text[:2000]}\n{server.log()[-6000:]}"
        )

    def lines() -> list[str]:
        return re.findall(r"restarted in [\d.]+s .*", server.log())

    # The supervisor writes its line as the new process takes over: a moment after the answer.
    support.wait_for(lambda: len(lines()) >= count, 10, what=f"{count} restart lines")
    return lines()


def test_a_wagtail_site_is_fresh_and_well_after_every_edit(serve):
    # Before: from the first edit forked from the template, every request answered 500
    # (ImportError: cannot import name 'rich_text' from 'wagtail.admin'): the template had
    # kept the submodules of an import that failed without the project's settings.
    site, server = serve("wagtail")
    template_ready(server)
    for page in ("/", "/admin/login/", "/search/?query=bread"):
        assert support.get(server.port, page).status == 200
    restarts = edits_in_a_row(site, server, 4)
    assert len(restarts) == 4 and all("(forked from the template" in r for r in restarts), (
        server.log()
    )
    for page in ("/", "/admin/login/", "/search/?query=bread"):  # the rest of the site too
        assert support.get(server.port, page).status == 200, page
    log = server.log()
    assert "Exception ignored" not in log  # the template's import noise stays out
    assert "left out" not in log


def test_pyramids_starter_project_restarts_from_the_template(serve):
    # Before: pkg_resources adds setuptools' vendored directory to sys.path, each template
    # ended, and after 20 in a row every restart started afresh.
    site, server = serve("pyramid")
    template_ready(server)
    restarts = edits_in_a_row(site, server, 3)
    assert all("(forked from the template" in r for r in restarts), server.log()
    log = server.log()
    assert "ended before they were ready" not in log
    assert log.count("left out") <= 1
    assert log.count("pkg_resources is deprecated") <= 1  # the server's own, not the template's


def test_flaskr_served_by_its_package_name(serve):
    # flaskr defines create_app only: serve finds the factory and calls it, as flask --app.
    site, server = serve("flaskr")
    assert support.get(server.port, site.path).text.startswith("version 0")
    template_ready(server)
    restarts = edits_in_a_row(site, server, 2)
    assert all("(forked from the template" in r for r in restarts), server.log()


def test_an_import_error_in_a_django_url_module_is_reloadmws_page(serve):
    # Django resolves its URLs at the first request; an import error there escaped Django's
    # own handler, and wsgiref answered "A server error occurred" with nothing else.
    site, server = serve("wagtail")
    views = site.root / "search" / "views.py"
    source = views.read_text()
    views.write_text(source + "from search.nowhere import something\n")
    line = source.count("\n") + 1
    page = support.get(server.port, site.path)
    assert page.status == 500
    assert page.text.startswith("The application failed to import"), page.text
    # Where to look, first: the user's line (the traceback, without reloadmw's frames, below).
    where = page.text.splitlines()[2:4]
    assert where == [f"search/views.py, line {line}", "    from search.nowhere import something"]
    assert f'"{realsites.ROOT / "reloadmw"}' not in page.text
    assert "No module named 'search.nowhere'" in page.text
    html = support.get(server.port, site.path, accept="text/html")
    assert 'src="/__reloadmw__/live.js"' in html.text  # the open page reloads once fixed
    views.write_text(views.read_text().replace("from search.nowhere import something\n", ""))
    fixed = support.wait_for(
        lambda: (r := support.get(server.port, site.path)).status == 200 and r, 30, what="fix"
    )
    assert fixed.text.startswith("version 0")
