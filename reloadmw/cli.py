"""The command line: ``reloadmw serve TARGET`` and ``reloadmw files TARGET``.

Both also run as ``python -m reloadmw``.

Its flags are generated from the option declarations (``reloadmw.options``):
``ServeSettings`` for serve's own, and every ``Options`` field that has a flag.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from .converters import asautobool, asbool
from .options import Declaration, Options, ServeSettings, declarations
from .serve import ExitStatus, ServeError, serve

DESCRIPTION = """\
Serve a WSGI application on 127.0.0.1 and start it afresh in a new process when its code
changes. TARGET is package.module:callable (a module alone: its application, app, create_app
or make_app; a factory that takes no argument is called, as flask --app does), a .py or .wsgi
file that defines `application`, or config:FILE.ini[#name] for PasteDeploy."""

FILES = """\
Import TARGET as `reloadmw serve TARGET` would, and list the files its ReloadMiddleware
watches, grouped by directory, with why each one is watched (a module, an extra file or
pattern, a file named by a failed import); then count the modules that are not watched."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(ExitStatus.BAD_INPUT, f"{self.prog}: error: {message} (see --help)\n")


def plain(text: str) -> str:
    """reStructuredText markup out of a declaration's doc, for ``--help``."""
    text = re.sub(r":[a-z]+:`([^`]+)`", r"\1", text)
    return text.replace("``", "").replace("%", "%%")


def _typed(flag: str, convert: Callable[[str, Any], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            return convert(flag, text)
        except (ValueError, TypeError) as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


def add_flag(group: Any, name: str, default: Any, declaration: Declaration) -> None:
    """The flag of one declared option; absent from the result unless given."""
    flag = declaration.flag
    assert flag is not None
    if declaration.serve_default is not None:
        default = declaration.serve_default
    shown = " ".join(default) if isinstance(default, tuple) else default
    shown = "auto" if shown is None else shown
    more: dict[str, Any] = {"dest": name, "default": argparse.SUPPRESS}
    if declaration.convert in (asbool, asautobool):
        more["action"] = argparse.BooleanOptionalAction
    elif isinstance(default, tuple):  # a list: the flag repeats
        more |= {"action": "append", "metavar": flag.strip("-").upper().replace("-", "_")}
    elif declaration.choices:
        more |= {"choices": declaration.choices}
    else:
        more |= {"type": _typed(flag, declaration.convert)}
    help_text = plain(declaration.doc) + (f" (default: {shown})" if shown != () else "")
    group.add_argument(flag, help=help_text, **more)


def parser() -> Parser:
    main = Parser(prog="reloadmw", description="Code reloading for WSGI servers.")
    commands = main.add_subparsers(dest="command", required=True, parser_class=Parser)
    run = commands.add_parser("serve", help="serve an application", description=DESCRIPTION)
    files = commands.add_parser(
        "files", help="list the files that serve would watch, and why", description=FILES
    )
    for command, classes in ((run, (ServeSettings, Options)), (files, (Options,))):
        command.add_argument("target", metavar="TARGET")
        for cls in classes:
            for each, declaration in declarations(cls):
                if declaration.flag is not None:
                    add_flag(command, each.name, each.default, declaration)
    return main


def main(argv: Sequence[str] | None = None) -> int:
    given = vars(parser().parse_args(argv))
    target = given.pop("target")
    command = given.pop("command")
    own = {each.name for each, _ in declarations(ServeSettings)}
    try:
        settings = ServeSettings(**{k: v for k, v in given.items() if k in own})
        values = {k: v for k, v in given.items() if k not in own}
        options = Options.build({**Options.serve_defaults(), **values})
    except (ValueError, TypeError) as error:
        print(f"reloadmw: error: {error}", file=sys.stderr)
        return ExitStatus.BAD_INPUT
    if command == "files":
        return list_files(target, options)
    if settings.server == "waitress" and importlib.util.find_spec("waitress") is None:
        print("reloadmw: error: --server waitress needs waitress: pip install waitress",
              file=sys.stderr)  # fmt: skip
        return ExitStatus.BAD_INPUT
    try:
        return serve(target, settings, options)
    except ServeError as error:
        print(f"reloadmw: error: {error}", file=sys.stderr)
        return ExitStatus.BAD_INPUT


def list_files(target: str, options: Options) -> int:
    """``reloadmw files TARGET``: import the application here, as serve's process would."""
    from .collect import collecting
    from .loading import listing, targets

    if os.getcwd() not in sys.path:  # as in serve's process (``python -m``)
        sys.path.insert(0, os.getcwd())
    with collecting() as built:
        try:
            targets.load(target, options)
        except targets.TargetError as error:
            print(f"reloadmw: error: {error}", file=sys.stderr)
            return ExitStatus.BAD_INPUT
    for middleware in built:
        if middleware._check.watcher is not None:
            middleware._check.watcher.adopt_modules(late=False)
    sys.stdout.write(listing.report(target, built, options.extra_files))
    return 0
