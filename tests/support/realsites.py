"""Real projects that nobody here wrote, as a new user would have them, for tests and benchmarks.

- ``wagtail``: a Wagtail site made by ``wagtail start`` (Wagtail from the package registry,
  about 1,300 modules with Django), migrated, with one view added that says its version.
- ``flaskr``: Flask's tutorial project, from the Flask sdist's ``examples/tutorial``.
- ``pyramid``: Pyramid's cookiecutter starter project (``cc_starter``), from the Pyramid
  sdist's ``docs/quick_tutorial/cookiecutters``, with setuptools' own egg-info beside it
  (what ``pip install -e .`` would make, without touching the environment).

Each is made once under ``.venv/realsites/`` (a cache that goes with the environment) and
copied for each use. ``Site.save(n)`` edits the project's own code so that ``Site.path``
answers ``Site.expect(n)``: the edit a developer makes and the page they look at.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(sys.prefix) / "realsites"
BIN = Path(sys.executable).parent


@dataclass
class Site:
    name: str
    root: Path  # the project's directory: where its commands run
    target: str  # what ``reloadmw serve`` is given
    path: str  # the page that shows the edit
    edited: str  # the file a save changes, relative to root
    pattern: str  # the text of the file that a save replaces: "{}" stands for the version
    own: list[str]  # the project's own reloader, "{port}" for the port

    def expect(self, number: int) -> str:
        return f"version {number}"

    def save(self, number: int) -> None:
        """Replace the file whole with the version ``number`` (an editor's safe write); its
        mtime always moves."""
        path = self.root / self.edited
        before = path.stat().st_mtime_ns
        found = re.escape(self.pattern).replace(r"\{\}", r"\d+")
        text = re.sub(found, self.pattern.format(number), path.read_text(), count=1)
        spare = path.with_suffix(".swap")
        spare.write_text(text)
        os.replace(spare, path)
        if path.stat().st_mtime_ns <= before:
            os.utime(path, ns=(before + 1_000_000, before + 1_000_000))

    def environment(self) -> dict[str, str]:
        # The project first on sys.path, as its own ``pip install -e .`` would have it (the
        # project's own reloader, such as pserve, starts with its bin directory there).
        path = os.pathsep.join(filter(None, [str(self.root), os.environ.get("PYTHONPATH")]))
        return dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1",
                    PYTHONPATH=path)  # fmt: skip


def _run(*command: object, cwd: Path) -> None:
    subprocess.run(list(map(str, command)), cwd=cwd, check=True, capture_output=True,
                   timeout=600)  # fmt: skip


def _sdist(project: str, member: str, into: Path) -> Path:
    """``member`` of the installed release's sdist, from the package registry, in ``into``."""
    version = metadata.version(project)
    download = into / "download"
    _run(sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary",
         ":all:", "-d", download, f"{project}=={version}",
         cwd=into)  # fmt: skip
    archive = next(download.glob("*.tar.gz"))
    with tarfile.open(archive) as tar:
        prefix = tar.getnames()[0].split("/")[0]
        wanted = [m for m in tar.getmembers() if m.name.startswith(f"{prefix}/{member}/")]
        tar.extractall(into / "unpacked", members=wanted, filter="data")
    shutil.rmtree(download)
    return into / "unpacked" / prefix / member


def _make_wagtail(where: Path) -> None:
    where.parent.mkdir(parents=True, exist_ok=True)
    _run(BIN / "wagtail", "start", "wsite", cwd=where.parent)
    (where.parent / "wsite").rename(where)
    views = where / "search" / "views.py"
    views.write_text(views.read_text() + (
        "\n\ndef version(request):\n    from django.http import HttpResponse\n\n"
        '    return HttpResponse("version 0")\n'
    ))  # fmt: skip
    urls = where / "wsite" / "urls.py"
    urls.write_text(urls.read_text().replace(
        '    path("search/", search_views.search, name="search"),\n',
        '    path("search/", search_views.search, name="search"),\n'
        '    path("version/", search_views.version),\n',
    ))  # fmt: skip
    _run(sys.executable, "manage.py", "migrate", "-v0", cwd=where)


def _make_flaskr(where: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        shutil.copytree(_sdist("flask", "examples/tutorial", Path(scratch)), where)
    init = where / "flaskr" / "__init__.py"
    init.write_text(init.read_text().replace('return "Hello, World!"', 'return "version 0"'))


def _make_pyramid(where: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        shutil.copytree(_sdist("pyramid", "docs/quick_tutorial/cookiecutters", Path(scratch)),
                        where)  # fmt: skip
    # The page shows the view's "project"; the edit changes it.
    view = where / "cc_starter" / "views" / "default.py"
    view.write_text(view.read_text().replace("{'project': 'cc_starter'}",
                                             "{'project': 'version 0'}"))  # fmt: skip
    page = where / "cc_starter" / "templates" / "mytemplate.jinja2"
    page.write_text(page.read_text().replace("<h1>", "<h1>{{project}} ", 1))
    ini = where / "development.ini"  # pserve listens where the benchmark says
    ini.write_text(ini.read_text().replace("localhost:6543", "127.0.0.1:%(http_port)s"))
    _run(sys.executable, "setup.py", "-q", "egg_info", cwd=where)


MAKERS = {"wagtail": _make_wagtail, "flaskr": _make_flaskr, "pyramid": _make_pyramid}


def _site(name: str, root: Path) -> Site:
    if name == "wagtail":
        return Site(name, root, "wsite.wsgi:application", "/version/", "search/views.py",
                    'HttpResponse("version {}")',
                    [sys.executable, "manage.py", "runserver", "127.0.0.1:{port}"])  # fmt: skip
    if name == "flaskr":
        return Site(name, root, "flaskr", "/hello", "flaskr/__init__.py", 'return "version {}"',
                    [str(BIN / "flask"), "--app", "flaskr", "run", "--debug", "--port",
                     "{port}"])  # fmt: skip
    return Site(name, root, "config:development.ini", "/", "cc_starter/views/default.py",
                "'project': 'version {}'",
                [str(BIN / "pserve"), "--reload", "development.ini",
                 "http_port={port}"])  # fmt: skip


def copy(name: str, into: Path) -> Site:
    """A copy of the real project ``name`` (made once, cached) in ``into``/``name``."""
    made = CACHE / name
    if not (made / ".made").exists():
        shutil.rmtree(made, ignore_errors=True)
        MAKERS[name](made)
        (made / ".made").write_text("")
    root = into / name
    shutil.copytree(made, root, ignore=shutil.ignore_patterns("__pycache__", ".made"))
    site = _site(name, root)
    if name == "flaskr":  # its database, in the copy's own instance folder (the cache's
        # would be under sys.prefix, where Flask takes a package for an installed one)
        subprocess.run([str(BIN / "flask"), "--app", "flaskr", "init-db"], cwd=root,
                       env=site.environment(), check=True, capture_output=True,
                       timeout=60)  # fmt: skip
    return site
