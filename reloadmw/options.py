"""Every option, declared once: its name, type, default, converter, documentation and flag.

``Options`` (the middleware's) and ``ServeSettings`` (``reloadmw serve``'s own)
are frozen dataclasses whose fields carry their declaration, in the manner of
waitress's ``adjustments.py``. Keyword arguments, ini strings, command-line
flags and the environment all go through ``Options.build``; the command line
(``reloadmw.cli``) and the documentation's tables are generated from the fields.
Every error is raised here, when the application is built, naming the option,
the value and what was expected.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .converters import (
    absolute,
    asautobool,
    asbool,
    aschoice,
    ashook,
    asinterval,
    asinterval_or_auto,
    aslist,
    asport,
    astext,
    disabled_by_environment,
)
from .watch.watcher import BACKENDS

#: How long a request sent on to the new code (``reloadmw serve``'s new process, a fresh
#: interpreter) waits for each part of its answer, in seconds; the environment may say.
HANDOFF_TIMEOUT = 60.0
HANDOFF_VARIABLE = "RELOADMW_HANDOFF_TIMEOUT"


def handoff_timeout() -> float:
    """``HANDOFF_TIMEOUT``, or what ``RELOADMW_HANDOFF_TIMEOUT`` says; ValueError, naming the
    variable, its value and what it should be, for anything but a positive number."""
    text = os.environ.get(HANDOFF_VARIABLE, "").strip()
    if not text:
        return HANDOFF_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"reloadmw: environment variable {HANDOFF_VARIABLE}={text!r}: "
                         "expected a positive number of seconds, such as 60")  # fmt: skip
    return value


#: The servers that ``reloadmw serve`` runs (``reloadmw.serve.adapter``).
SERVERS = ("wsgiref", "waitress")

ON_CHANGE = ("restart", "retry")


@dataclass(frozen=True)
class Declaration:
    """What the docs and the command line say of one option."""

    convert: Callable[[str, Any], Any]
    kind: str  # the type, in words
    doc: str
    flag: str | None = None  # the ``reloadmw serve`` flag, if it has one
    example: str | None = None  # an ini line
    choices: tuple[str, ...] = ()
    #: The default under ``reloadmw serve``, where it differs (None: the same).
    serve_default: Any = None


def option(
    default: Any, convert: Callable[[str, Any], Any], kind: str, doc: str, **more: Any
) -> Any:
    return field(default=default, metadata={"option": Declaration(convert, kind, doc, **more)})


def declarations(cls: type) -> Iterator[tuple[dataclasses.Field[Any], Declaration]]:
    """The fields of ``cls`` (Options or ServeSettings) with their declarations."""
    for each in dataclasses.fields(cls):
        yield each, each.metadata["option"]


@dataclass(frozen=True)
class Options:
    """The options of ``ReloadMiddleware``, the same in Python and in ini files."""

    interval: float | str = option(
        "auto", asinterval_or_auto, "``auto`` or seconds (float)",
        "Time between two checks, at least. ``auto``: as often as keeps the checks under 1% "
        "of the time, from what they cost here (every request with ``inotify``, every few "
        "milliseconds with ``stat`` on a few hundred files), so that the first page after a "
        "save is checked. ``0`` checks on every request.",
        flag="--interval", example="interval = 0.5", serve_default=0.0,
    )  # fmt: skip
    hook: Any = option(
        "auto", ashook, "name or callable",
        "How to restart. ``auto`` picks from the first request (see the server pages); "
        "``mod_wsgi``, ``apache-windows``, ``gunicorn``, ``uwsgi``, ``exit`` (status 3, for a "
        "supervisor), ``signal:NAME`` (that signal to this process), a "
        ":class:`reloadmw.hooks.Hook`, a callable, or ``package.module:function``; callables "
        "get the list of changed paths.",
        example="hook = signal:SIGTERM",
    )  # fmt: skip
    extra_files: tuple[str, ...] = option(
        (), aslist, "list of paths or globs",
        "More files to watch: templates, settings, data. ``**`` matches any depth. Relative "
        "paths resolve against the current directory, or the ini file's directory. A file "
        "named explicitly counts as changed when it appears; new files that match a glob do "
        "not.",
        flag="--extra-file", example="extra_files = templates/**/*.html settings.toml",
    )  # fmt: skip
    exclude: tuple[str, ...] = option(
        (), aslist, "list of globs",
        "Files never to watch, matched against absolute paths; a relative pattern matches at "
        "any depth.",
        flag="--exclude", example="exclude = */migrations/*.py",
    )  # fmt: skip
    templates: bool = option(
        True, asbool, "bool",
        "Ask the framework where its templates are and watch them: Django's template "
        "directories (its apps' included), Flask's and its blueprints' template folders, "
        "pyramid_jinja2's search path and the templates it loads. An edit makes the "
        "framework read them again, with no restart, and reloads an open page. Templates "
        "in site-packages are left out, as modules are.",
        flag="--templates", example="templates = no",
    )  # fmt: skip
    include_site_packages: bool = option(
        False, asbool, "bool",
        "Also watch modules from site-packages and dist-packages (the standard library never).",
        flag="--include-site-packages", example="include_site_packages = yes",
    )  # fmt: skip
    enabled: bool = option(
        True, asbool, "bool",
        "``False`` makes a pass-through that never checks. The environment variable "
        "``RELOADMW_DISABLE`` set to anything non-empty other than ``0`` does the same.",
        example="enabled = false",
    )  # fmt: skip
    replay: bool = option(
        True, asbool, "bool",
        "Under mod_wsgi daemon mode, check before each request through the WSGI script's "
        "``reload_required`` and let mod_wsgi replay the request on the new process.",
        example="replay = no",
    )  # fmt: skip
    syntax_check: bool = option(
        True, asbool, "bool",
        "When a changed ``.py`` file does not compile, do not restart: serve a diagnostic page "
        "(details to clients on this host only) until it compiles.",
        flag="--syntax-check", example="syntax_check = off",
    )  # fmt: skip
    settle: float = option(
        0.2, asinterval, "seconds (float)",
        "Once a check finds changes, wait until the watched files have been quiet this long "
        "(re-checking meanwhile, 3 s at most) before restarting, so that a formatter, a code "
        "generator or a checkout costs one restart into a whole tree. ``0`` restarts at once.",
        flag="--settle", example="settle = 0.5",
    )  # fmt: skip
    import_check: bool = option(
        True, asbool, "bool",
        "Before a restart, import the module that built the middleware (the WSGI script, "
        "gunicorn's ``module:app``) in a fresh interpreter, and restart only when that works; "
        "until then serve the import error (details to clients on this host only), so that "
        "a broken import never takes the server down. Not needed under ``reloadmw serve``, "
        "whose new process guards its own import.",
        example="import_check = no",
    )  # fmt: skip
    on_change: str = option(
        "restart", aschoice(ON_CHANGE), "``restart`` or ``retry``",
        "``retry`` checks before GET and HEAD requests; on a change it answers 503 with "
        "``Retry-After: 1`` and a page that reloads itself, then restarts.",
        flag="--on-change", example="on_change = retry", choices=ON_CHANGE,
    )  # fmt: skip
    backend: str = option(
        "inotify" if sys.platform == "linux" else "stat", aschoice(BACKENDS),
        "``stat`` or ``inotify``",
        "``inotify`` (Linux, the default there) reads the kernel's events instead of stat'ing "
        "every file, so a check costs one read, with a full stat pass every 10 seconds; it "
        "falls back to ``stat`` with one warning. ``stat`` stats every watched file.",
        flag="--backend", example="backend = stat", choices=BACKENDS,
    )  # fmt: skip

    live_reload: bool | None = option(
        None, asautobool, "bool, or ``None`` (auto)",
        "Put a small script in HTML pages that reloads the page in the browser once the new "
        "code answers (a stylesheet of ``live_files`` is swapped in place), and answer it "
        "under ``/__reloadmw__/``. ``None``, the default: on under ``reloadmw serve``, off "
        "elsewhere. See :doc:`live-reload`.",
        flag="--live-reload", example="live_reload = on",
    )  # fmt: skip
    live_files: tuple[str, ...] = option(
        (), aslist, "list of paths or globs",
        "Files that need no restart (stylesheets, scripts, templates read on each request): "
        "with ``live_reload``, a change reloads the open pages, or swaps a changed stylesheet "
        "in place, and the process keeps running. Relative paths as for ``extra_files``.",
        flag="--live-file", example="live_files = static/**/*.css templates/**/*.html",
    )  # fmt: skip

    @classmethod
    def build(cls, values: Mapping[str, Any], *, base: str | None = None) -> Options:
        """Options from ``values`` (Python values or ini strings); relative paths against ``base``.

        Raises ValueError for an unknown name, listing the valid ones, and
        ValueError or TypeError for a bad value, naming it. The environment's
        ``RELOADMW_DISABLE`` turns ``enabled`` off.
        """
        names = cls.known(values)
        converted = {name: names[name].convert(name, value) for name, value in values.items()}
        options = cls(**converted)
        return dataclasses.replace(
            options,
            extra_files=absolute(options.extra_files, base or os.getcwd()),
            live_files=absolute(options.live_files, base or os.getcwd()),
            enabled=options.enabled and not disabled_by_environment(),
        )

    @classmethod
    def from_ini(cls, local_conf: Mapping[str, Any], global_conf: Mapping[str, Any]) -> Options:
        """Options from a PasteDeploy section; relative paths against the ini file's directory.

        PasteDeploy gives a section none of the keys that ``[DEFAULT]`` defines,
        not even the section's own value; a ``set name = value`` line lands in
        ``global_conf``. Unknown keys of the section itself are errors.
        """
        names = cls.known(local_conf)
        shared = {name: global_conf[name] for name in names if name in global_conf}
        return cls.build({**shared, **local_conf}, base=global_conf.get("here"))

    @classmethod
    def known(cls, values: Mapping[str, Any]) -> dict[str, Declaration]:
        """The declarations by name; ValueError naming any key of ``values`` that is none."""
        names = {each.name: declaration for each, declaration in declarations(cls)}
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise ValueError(
                f"unknown reloadmw option{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(map(repr, unknown))}; valid options are: {', '.join(sorted(names))}"
            )
        return names

    @classmethod
    def serve_defaults(cls) -> dict[str, Any]:
        """The defaults that differ under ``reloadmw serve``: it checks before every request
        (interval 0), with inotify on Linux, so that the first page after a save is fresh."""
        return {
            each.name: declaration.serve_default
            for each, declaration in declarations(cls)
            if declaration.serve_default is not None
        }

    def to_json(self) -> str:
        """For a ``reloadmw serve`` server process (the hook stays behind: serve gives its own)."""
        return json.dumps({**dataclasses.asdict(self), "hook": "auto"})

    @classmethod
    def from_json(cls, text: str) -> Options:
        values: dict[str, Any] = json.loads(text)
        values.update({k: tuple(v) for k, v in values.items() if isinstance(v, list)})
        return cls(**values)


@dataclass(frozen=True)
class ServeSettings:
    """``reloadmw serve``'s own settings, besides the middleware's Options."""

    host: str = option(
        "127.0.0.1", astext, "address", "The address to listen on.", flag="--host"
    )  # fmt: skip
    port: int = option(8000, asport, "port", "The port to listen on.", flag="--port")
    server: str = option(
        SERVERS[0], aschoice(SERVERS), " or ".join(f"``{s}``" for s in SERVERS),
        "``wsgiref``: the standard library's server, a thread per request; ``waitress`` "
        "(needs waitress).",
        flag="--server", choices=SERVERS,
    )  # fmt: skip
    preload: bool = option(
        True, asbool, "bool",
        "On Linux, fork each new server process from a template process that has imported "
        "the libraries the last one loaded (the standard library's and site-packages' modules, "
        "never your code), so that a restart imports only your code. Off on macOS and "
        "Windows. See :doc:`serve`.",
        flag="--preload",
    )  # fmt: skip
