"""Getting started, followed as a reader would, in projects of their own.

docs/getting-started.rst speaks to a reader with a project and a virtual environment of
their own, and reloadmw's checkout beside the project (``../reloadmw``). So each test here
makes that: a new virtual environment with the framework (the versions this suite runs),
a copy of the checkout, and the project beside it (``django-admin startproject``'s, Flask's
tutorial, Pyramid's cookiecutter starter), then runs the page's commands exactly as printed,
from the project's root, with only that environment's scripts on PATH (the environment
"activated"), and asserts what the page says happens.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest

from tests import support
from tests.support import realsites
from tests.test_commands import ROOT, copy_checkout, printed

pytestmark = [pytest.mark.linux, pytest.mark.server]

PAGE = ROOT / "docs" / "getting-started.rst"
PORT = 8000  # the page's own port
#: What the projects need, at the versions this suite runs (pip's cache has them).
FRAMEWORKS = ["Django", "Flask", "pyramid", "pyramid_jinja2", "pyramid_debugtoolbar",
              "waitress"]  # fmt: skip


class Yours:
    """The reader's side: ``top/env`` (their environment), ``top/reloadmw`` (the checkout)."""

    def __init__(self, top: Path) -> None:
        self.top = top
        self.env = top / "env"
        self.bin = self.env / "bin"

    def environment(self) -> dict[str, str]:
        """As ``. env/bin/activate`` leaves it: its scripts first, nothing of the suite's."""
        return {"PATH": f"{self.bin}:/usr/bin:/bin", "VIRTUAL_ENV": str(self.env),
                "PYTHONPATH": "", "RELOADMW_DISABLE": ""}  # fmt: skip

    def run(self, command: str, cwd: Path, timeout: float = 300) -> str:
        result = subprocess.run(["bash", "-c", command], cwd=cwd, env=self.environment(),
                                capture_output=True, text=True, timeout=timeout)  # fmt: skip
        assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"
        return result.stdout

    def serve(self, server_factory, command: str, cwd: Path) -> support.Server:
        return server_factory(["bash", "-c", command], port=PORT, cwd=cwd,
                              env=self.environment(), group=True,
                              stop_signal=signal.SIGINT)  # fmt: skip


@pytest.fixture(scope="module")
def yours(tmp_path_factory) -> Iterator[Yours]:
    top = tmp_path_factory.mktemp("getting-started")
    mine = Yours(top)
    subprocess.run([sys.executable, "-m", "venv", mine.env], check=True, timeout=120)
    pinned = [f"{name}=={metadata.version(name)}" for name in FRAMEWORKS]
    subprocess.run([mine.bin / "python", "-m", "pip", "install", "--quiet", *pinned],
                   check=True, capture_output=True, timeout=600)  # fmt: skip
    copy_checkout(top / "reloadmw")
    yield mine
    support.remove_tree(top)


def install(yours: Yours, project: Path) -> None:
    """Step 1, as printed: reloadmw from the checkout beside the project."""
    yours.run(printed("python -m pip install ../reloadmw"), cwd=project)
    assert (yours.bin / "reloadmw").exists()


def first_after(save, port: int, path: str, wanted: str) -> support.Response:
    """The first answer to a request 0.1 s after ``save()``: the page says it is fresh."""
    save()
    time.sleep(0.1)
    answer = support.get(port, path)
    assert answer.status == 200 and wanted in answer.text, answer.text[:2000]
    return answer


def test_django_project(server_factory, yours):
    """A new startproject: the admin's stylesheet is a 404 until step 2, then served; an
    edit of urls.py shows on the first request after the save, from a restart."""
    subprocess.run([yours.bin / "python", "-m", "django", "startproject", "mysite"],
                   cwd=yours.top, check=True, timeout=60)  # fmt: skip
    project = yours.top / "mysite"
    install(yours, project)
    yours.run(printed("python manage.py migrate"), cwd=project)
    assert (project / "db.sqlite3").exists()
    server = yours.serve(server_factory, printed("reloadmw serve mysite.wsgi:application"),
                         project)  # fmt: skip
    shown = PAGE.read_text().split("reloadmw serve mysite.wsgi:application", 1)[1]
    expected = shown.split(".. code-block:: text", 1)[1].strip().splitlines()[0].strip()
    pattern = re.escape(expected).replace("4100", r"\d+")
    assert re.match(pattern, server.log().splitlines()[0]), server.log()
    assert support.get(PORT, "/static/admin/css/base.css").status == 404
    # Step 2: the example's lines that the page points at, at the top and at the end.
    text = PAGE.read_text()
    assert ":emphasize-lines: 1, 9" in text
    example = (ROOT / "docs" / "examples" / "djangosite" / "mysite" / "urls.py").read_text()
    lines = example.splitlines()
    top, end = lines[0], lines[8]
    assert "import staticfiles_urlpatterns" in top and "staticfiles_urlpatterns()" in end
    prose = " ".join(text.split())
    where = "the import at the top (after the module's docstring)"
    assert f"{where}, ``{top}``, and at the end ``{end}``" in prose
    urls = project / "mysite" / "urls.py"
    added = f"{top}\n{urls.read_text()}\n{end}\n"
    first_after(lambda: support.write(urls, added), PORT, "/static/admin/css/base.css", "body")
    login = support.get(PORT, "/admin/login/")
    assert "Django administration" in login.text and "admin/css/base.css" in login.text
    # Step 4: the header, after the imports.
    header = 'admin.site.site_header = "My site"'
    assert f"``{header}``" in text
    source = urls.read_text()
    edited = source.replace("from django.urls import path\n",
                            f"from django.urls import path\n\n{header}\n")  # fmt: skip
    assert edited != source
    first_after(lambda: support.write(urls, edited), PORT, "/admin/login/", "My site")
    log = server.log()
    assert re.search(r"restarted in \d\.\d\ds after a change in \S+/mysite/urls\.py", log), log


def test_flask_project(server_factory, yours):
    """Flask's tutorial: /hello says "Hello, World!"; an edit shows on the first request."""
    site = realsites.copy("flaskr", yours.top)
    init = site.root / "flaskr" / "__init__.py"
    init.write_text(init.read_text().replace('return "version 0"', 'return "Hello, World!"'))
    install(yours, site.root)
    server = yours.serve(server_factory, printed("reloadmw serve flaskr"), site.root)
    assert support.get(PORT, "/hello").text.startswith("Hello, World!")
    edited = init.read_text().replace("Hello, World!", "Hello, edited!")
    first_after(lambda: support.write(init, edited), PORT, "/hello", "Hello, edited!")
    assert "restarted in" in server.log()


def test_pyramid_project(server_factory, yours):
    """Pyramid's starter, installed with ``pip install -e .``: an edit of the view's dict
    shows on the first request after the save."""
    site = realsites.copy("pyramid", yours.top)
    yours.run("python -m pip install --quiet --no-deps -e .", cwd=site.root)
    install(yours, site.root)
    server = yours.serve(server_factory, printed("reloadmw serve config:development.ini"),
                         site.root)  # fmt: skip
    assert "Pyramid" in support.get(PORT).text
    first_after(lambda: site.save(1), PORT, "/", site.expect(1))
    log = server.log()
    assert "restarted in" in log
    # The ini file's [loggers], as pserve sets them up: its format, for reloadmw's line too.
    pserve_format = r"INFO  \[reloadmw:\d+\]\[[^]]+\] change detected in \S+default\.py"
    assert re.search(pserve_format, log), log
    assert "reloadmw: change detected" not in log  # (once: in the ini file's format)
