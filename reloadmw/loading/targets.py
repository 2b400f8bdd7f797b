"""Loading an application by name, with the import guard.

A broken edit must never leave a server that cannot boot: when importing the
application raises, the import guard serves the traceback (to loopback clients
only), watches the files of the failed import and restarts when one changes.
The same guard serves ``import_app`` in WSGI scripts and ``reloadmw serve``.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import logging
import os
import sys
import traceback
from collections.abc import Callable, Iterable
from importlib.machinery import SourceFileLoader
from typing import TYPE_CHECKING, Any

from .. import pages
from ..collect import collecting
from ..middleware import ReloadMiddleware
from ..options import Options
from ..watch.sources import OWN, library_dirs, stdlib_dirs
from . import names, paste

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("reloadmw")


class TargetError(ValueError):
    """The target names nothing that exists: a mistake in the command, not in the code."""


class BrokenImport:
    """The application stand-in while its import fails: a 500 that explains."""

    def __init__(self, target: str, details: str, error: BaseException | None = None) -> None:
        self.target = target
        self.details = details
        self.error = error

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return pages.import_error(self.details, environ, start_response)

    def __repr__(self) -> str:
        return f"<BrokenImport {self.target!r}>"


def failed_import(app: object) -> BaseException | None:
    """The error that ``load`` served instead of the application, if it did (None when the
    application imported)."""
    broken = getattr(app, "app", None)
    return broken.error if isinstance(broken, BrokenImport) else None


def _traceback_files(error: BaseException) -> list[str]:
    """The source files named by a traceback (and a SyntaxError), outside the stdlib."""
    names = [frame.filename for frame in traceback.extract_tb(error.__traceback__)]
    if isinstance(error, SyntaxError) and error.filename:
        names.append(error.filename)
    skip = (*stdlib_dirs(), OWN)
    files = []
    for name in names:
        path = os.path.abspath(name)
        if os.path.isfile(path) and not path.startswith(skip) and path not in files:
            files.append(path)
    return files


def _missing_module_files(error: BaseException) -> list[str]:
    """Where a module that failed to import as missing would be found, once it is back.

    A deleted module, or one that a checkout has not written yet, names no file in
    the traceback: the files it could be are watched instead (missing for now, so
    their appearance is a change).
    """
    missing = [e for e in _chain(error) if isinstance(e, ModuleNotFoundError) and e.name]
    if not missing:
        return []
    stdlib, site = library_dirs()
    roots = [
        root
        for root in (os.path.abspath(entry or os.curdir) for entry in sys.path)
        if os.path.isdir(root) and not os.path.join(root, "").startswith((*stdlib, *site))
    ]
    files = []
    for cause in missing:
        parts = str(cause.name).split(".")
        for root in dict.fromkeys(roots):
            base = os.path.join(root, *parts)
            files += [base + ".py", os.path.join(base, "__init__.py")]
    return files


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def guarded(
    target: str, load: Callable[[], WSGIApplication], options: Options, watch: Iterable[str] = ()
) -> WSGIApplication:
    """``load()`` the application and wrap it; on failure wrap a BrokenImport instead.

    TargetError passes through. An application that built a ReloadMiddleware
    of its own while loading (an ini file's ``[filter:reload]``, a module that
    wraps itself) is returned as it is, not wrapped twice. ``watch`` names
    more files to watch when the import fails.
    """
    try:
        with collecting() as built:
            app = load()
    except TargetError:
        raise
    except Exception as error:
        details = pages.user_traceback(error)
        found = [*watch, *_traceback_files(error), *_missing_module_files(error)]
        files = list(dict.fromkeys(found))
        log.error(
            "importing %s failed; serving the traceback to local clients until one of "
            "these files changes: %s\n%s",
            target,
            ", ".join(files) or "(none)",
            details,
        )
        options = dataclasses.replace(options, extra_files=(*options.extra_files, *files))
        return ReloadMiddleware(BrokenImport(target, details, error), options=options)
    if isinstance(app, ReloadMiddleware) or built:
        return app
    return ReloadMiddleware(app, options=options)


#: What a target that names a module alone is looked up as, in order (Flask's own rule for
#: ``flask --app module``: an application object, then a factory).
LOOKED_FOR = ("application", "app", "create_app", "make_app")


def _factory(found: object) -> bool:
    """Whether ``found`` is a function to call with no argument for the application (Flask's
    ``create_app``), not one (a WSGI function takes environ and start_response)."""
    if not inspect.isfunction(found):
        return False
    try:
        inspect.signature(found).bind()
    except TypeError:
        return False
    return True


def _import_object(target: str) -> WSGIApplication:
    try:
        module, attributes = names.split(target)
    except ValueError:
        raise TargetError(f"{target!r} is not 'package.module:callable'") from None
    try:
        found = names.find(module)
    except ModuleNotFoundError as error:
        if names.names_missing_module(error, module):
            raise TargetError(f"no module named {module!r} (from {target!r})") from error
        raise
    if not attributes:
        attributes = next((a for a in LOOKED_FOR if hasattr(found, a)), "").split(".")
        if attributes == [""]:
            looked = ", ".join(LOOKED_FOR)
            raise TargetError(f"module {module!r} has none of {looked} (write {target}:NAME)")
    attribute = ".".join(attributes)
    try:  # the module imported: a name it lacks is a mistake in the target, not in the code
        found = names.walk(found, attributes)
    except AttributeError:
        raise TargetError(f"module {module!r} has no {attribute!r} (from {target!r})") from None
    if _factory(found):
        made = found()
        log.debug("%s is a factory: called it for the application", target)
        if not callable(made):
            raise TypeError(f"{target}() returned {made!r}, which is not a WSGI application")
        return made  # type: ignore[no-any-return]
    if not callable(found):
        raise TypeError(f"{target!r} is {found!r}, which is not a WSGI application")
    return found  # type: ignore[no-any-return]


def import_app(target: str, **values: Any) -> WSGIApplication:
    """Import ``"package.module:callable"`` and wrap it.

    A module alone means its first of ``application``, ``app``, ``create_app`` and
    ``make_app``; a function that takes no argument (a factory, such as Flask's
    ``create_app``) is called for the application, as ``flask --app`` does.

    :param target: what to import.
    :param values: ReloadMiddleware's options, as keywords.

    If the import raises, the returned middleware serves the traceback to
    loopback clients (a plain 500 to others), watches the files in the
    traceback and those of the modules imported meanwhile, and restarts the
    process when one changes. A target module that does not exist raises
    ``TargetError`` (a ValueError): that is a mistake in the name.
    """
    return guarded(target, lambda: _import_object(target), Options.build(values))


def _load_file(path: str) -> WSGIApplication:
    """A ``.py`` or ``.wsgi`` file that defines ``application``, as mod_wsgi loads one."""
    if not os.path.isfile(path):
        raise TargetError(f"no file {path!r}")
    _importable_beside(path)  # its siblings import as they would under mod_wsgi
    stem = os.path.splitext(os.path.basename(path))[0]
    name = stem if stem.isidentifier() and stem not in sys.modules else "_reloadmw_target"
    loader = SourceFileLoader(name, path)
    spec = importlib.util.spec_from_loader(name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    app = getattr(module, "application", None)
    if not callable(app):
        raise AttributeError(f"{path} defines no callable 'application'")
    return app  # type: ignore[no-any-return]


def _importable_beside(path: str) -> None:
    """Put the directory of ``path`` first on sys.path, once."""
    directory = os.path.dirname(path)
    if directory not in sys.path:
        sys.path.insert(0, directory)


def _load_ini(spec: str) -> WSGIApplication:
    path, _, name = spec.partition("#")
    if not os.path.isfile(path):
        raise TargetError(f"no ini file {path!r}")
    # Its ``call:`` and ``egg:`` modules beside it import from any directory, as a
    # script's siblings do for a file target.
    _importable_beside(path)
    try:
        from paste.deploy import loadapp
    except ImportError as error:
        raise TargetError("config: targets need PasteDeploy (pip install PasteDeploy)") from error
    try:  # its [loggers], as pserve has them: the application's own log lines show
        paste.setup_logging(path)
    except ValueError as error:
        raise TargetError(str(error)) from error
    return loadapp(f"config:{path}", name=name or "main")  # type: ignore[no-any-return]


def _names_a_file(target: str) -> bool:
    return target.endswith((".py", ".wsgi")) or os.sep in target


def package_of(target: str) -> str | None:
    """The top-level name of the module that a ``reloadmw serve`` TARGET imports (a file's
    stem), or None for ``config:``."""
    if target.startswith("config:"):
        return None
    if _names_a_file(target):
        return os.path.splitext(os.path.basename(target))[0]
    return target.partition(":")[0].split(".")[0]


def load(target: str, options: Options | None = None) -> WSGIApplication:
    """A ``reloadmw serve`` TARGET, guarded and wrapped (never twice).

    TARGET is ``package.module:callable`` (as for ``import_app``); a path to a ``.py`` or ``.wsgi``
    file that defines ``application``; or ``config:FILE.ini`` (optionally
    ``#name``) for PasteDeploy.
    """
    options = options or Options.build({})
    if target.startswith("config:"):
        spec = target[len("config:") :]
        path = os.path.abspath(spec.partition("#")[0])
        return guarded(target, lambda: _load_ini(os.path.abspath(spec)), options, [path])
    if target.endswith(".ini") and ":" not in target:
        raise TargetError(f"{target!r} is an ini file: write config:{target}")
    if _names_a_file(target):
        path = os.path.abspath(target)
        dotted = all(part.isidentifier() for part in target.split("."))
        if dotted and target.endswith(".wsgi") and not os.path.isfile(path):
            # Django's mysite.wsgi: a module whose name looks like a file's.
            raise TargetError(f"no file {path!r}; for the module, write {target}:application")
        return guarded(target, lambda: _load_file(path), options, [path])
    return guarded(target, lambda: _import_object(target), options)
