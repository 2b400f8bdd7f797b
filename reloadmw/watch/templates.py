"""The framework's templates: where they are, and how to make the framework read them again.

A template edit needs no new process: the framework reads the file again once its
cache forgets it, as Django's runserver does (its ``template_changed`` resets the
loaders and skips the restart). ``Templates.find`` asks the framework, once it is
set up, and returns what to watch:

- Django: every ``DjangoTemplates`` engine's directories and its loaders' (the apps'
  ``templates`` directories), as ``django.template.autoreload`` gives them; the reset
  is ``reset_loaders``.
- Flask: the application's and its blueprints' template folders; the reset empties
  the Jinja engine's template cache.
- Pyramid with pyramid_jinja2: each Jinja engine's search path, and the files of
  the templates it has loaded (asset specs such as ``myproject:templates/home.jinja2``,
  found as they are first rendered); the reset empties their caches.

Nothing is imported that the application did not import; a framework not set up yet
(Django's apps before ``django.setup()``) is asked again at a later check.
"""

from __future__ import annotations

import importlib.machinery
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .sources import State

log = logging.getLogger("reloadmw")

#: At most this many template files are watched per directory tree (a tree larger than
#: that is not a template directory, or not one to stat at every check).
MOST_FILES = 5000
#: Where a walk never goes.
SKIPPED_DIRECTORIES = frozenset({"__pycache__", "node_modules", ".git", ".hg", ".svn"})
#: Never a template, though a search path may hold it (Pyramid's is a whole package): a
#: module's file, watched as a module once imported, whose edit restarts.
CODE_SUFFIXES = (*importlib.machinery.all_suffixes(), ".pyw", ".pyo", ".pyd")


@dataclass
class Found:
    """One framework's templates: directories to walk, files, and how to forget them."""

    framework: str
    directories: list[str] = field(default_factory=list)
    files: Callable[[], list[str]] = list  # loaded templates found as they are rendered
    reset: Callable[[], None] = lambda: None


def _django() -> Found | None:
    apps = sys.modules.get("django.apps")
    if apps is None or "django.template" not in sys.modules or not apps.apps.ready:
        return None
    from django.template import autoreload  # type: ignore[import-untyped]

    directories = sorted(str(d) for d in autoreload.get_template_directories())
    return Found("Django", directories, reset=autoreload.reset_loaders)


def _candidates(app: object) -> Iterator[object]:
    """``app`` and what it wraps: a middleware's ``app``/``application``, a bound method's
    object (Flask's ``app.wsgi_app``), a few levels deep."""
    seen: set[int] = set()
    todo = [app]
    while todo and len(seen) < 8:
        each = todo.pop(0)
        if each is None or id(each) in seen:
            continue
        seen.add(id(each))
        yield each
        for name in ("app", "application", "wsgi_app", "__self__", "registry"):
            try:
                todo.append(getattr(each, name, None))
            except Exception:  # a property that fails outside a request
                continue


def _jinja_files(engines: list[Any]) -> Callable[[], list[str]]:
    def files() -> list[str]:
        found = []
        for engine in engines:
            cache = getattr(engine, "cache", None)
            for template in list(cache.values()) if cache is not None else []:
                if isinstance(filename := getattr(template, "filename", None), str):
                    found.append(filename)
        return found

    return files


def _jinja_reset(engines: list[Any]) -> Callable[[], None]:
    def reset() -> None:
        for engine in engines:
            if getattr(engine, "cache", None) is not None:
                engine.cache.clear()

    return reset


def _search_paths(loader: object) -> list[str]:
    paths = getattr(loader, "searchpath", None) or []
    return [os.path.abspath(path) for path in paths if isinstance(path, str)]


def _flask(app: object) -> Found | None:
    flask = sys.modules.get("flask")
    if flask is None or not isinstance(app, flask.Flask):
        return None
    loaders = [app.jinja_loader, *(bp.jinja_loader for bp in app.iter_blueprints())]
    directories = sorted({path for loader in loaders for path in _search_paths(loader)})
    engines = [app.jinja_env]
    return Found("Flask", directories, _jinja_files(engines), _jinja_reset(engines))


def _pyramid(registry: object) -> Found | None:
    interfaces = sys.modules.get("pyramid_jinja2")
    utilities = getattr(registry, "getUtilitiesFor", None)
    if interfaces is None or utilities is None:
        return None
    engines = [env for _, env in utilities(interfaces.IJinja2Environment)]
    if not engines:
        return None
    directories = sorted({p for env in engines for p in _search_paths(env.loader)})
    return Found("Pyramid", directories, _jinja_files(engines), _jinja_reset(engines))


def find(app: object) -> list[Found]:
    """The templates of the frameworks that ``app`` is built with, as far as they are set up."""
    found = []
    if (django := _django()) is not None:
        found.append(django)
    for each in _candidates(app):
        for finder in (_flask, _pyramid):
            try:
                if (templates := finder(each)) is not None:
                    found.append(templates)
            except Exception:
                log.debug("could not ask %r for its templates", each, exc_info=True)
    return found


def walk(directory: str) -> list[str]:
    """The files under ``directory`` (none of caches or version control), at most
    ``MOST_FILES``."""
    files: list[str] = []
    for root, directories, names in os.walk(directory):
        directories[:] = [d for d in directories if d not in SKIPPED_DIRECTORIES]
        files.extend(
            os.path.join(root, name)
            for name in names
            if not name.startswith(".") and not name.endswith(CODE_SUFFIXES)
        )
        if len(files) > MOST_FILES:
            log.warning(
                "%s has more than %d files: its templates are not watched", directory, MOST_FILES
            )
            return []
    return files


class Templates:
    """The templates of one application's frameworks, as a Watcher watches them."""

    def __init__(self, app: object) -> None:
        self.app = app
        self.found: list[Found] = []
        self.files: set[str] = set()
        #: The newest mtime among the templates (ns), for the live-reload script.
        self.version = 0

    def discover(self, wanted: Callable[[str], bool], scan: bool) -> list[tuple[str, str]]:
        """(path, framework) of the template files to watch: with ``scan``, those of the
        frameworks set up since the last scan (in directories that are ``wanted``); and
        the Jinja templates loaded since. Some may be watched already."""
        new: list[tuple[str, str]] = []
        if scan:
            known = {found.framework for found in self.found}
            for found in find(self.app):
                if found.framework in known:
                    continue
                self.found.append(found)
                log.debug("%s templates: %s", found.framework, found.directories)
                for directory in found.directories:
                    if wanted(os.path.join(directory, "")):
                        new.extend((path, found.framework) for path in walk(directory))
        for found in self.found:
            new.extend((path, found.framework) for path in found.files() if path not in self.files)
        return [(path, framework) for path, framework in new if wanted(path)]

    def note(self, path: str, state: State) -> None:
        """``path`` is watched as a template, and its state is now ``state``."""
        self.files.add(path)
        self.version = max(self.version, state[0] if state is not None else time.time_ns())

    def covers(self, changed: list[str]) -> bool:
        """Whether ``changed`` are templates only (and some)."""
        return bool(changed) and self.files.issuperset(changed)

    def read_again(self, changed: list[str]) -> None:
        """Make every framework read its templates again; say so, once."""
        for found in self.found:
            try:
                found.reset()
            except Exception:
                log.exception("could not reset %s's templates", found.framework)
        shown = ", ".join(sorted(changed)[:3]) + (" ..." if len(changed) > 3 else "")
        log.info("%s changed: templates read again, no restart", shown, extra={"terminal": True})
