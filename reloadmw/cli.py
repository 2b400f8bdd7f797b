"""The command line: ``reloadmw serve TARGET`` (also ``python -m reloadmw serve TARGET``)."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Sequence
from typing import NoReturn

from . import config
from .serve import ExitStatus, ServeError, serve
from .serve.adapter import SERVERS

DESCRIPTION = """\
Serve a WSGI application on 127.0.0.1 and start it afresh in a new process when its code
changes. TARGET is package.module:callable, a .py or .wsgi file that defines `application`,
or config:FILE.ini[#name] for PasteDeploy."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(ExitStatus.BAD_INPUT, f"{self.prog}: error: {message} (see --help)\n")


def port_number(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = -1
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 0 to 65535, got {text!r}")
    return number


def seconds(text: str) -> float:
    try:
        return config.asinterval("--interval", text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def parser() -> Parser:
    main = Parser(prog="reloadmw", description="Code reloading for WSGI servers.")
    commands = main.add_subparsers(dest="command", required=True, parser_class=Parser)
    run = commands.add_parser("serve", help="serve an application", description=DESCRIPTION)
    run.add_argument("target", metavar="TARGET")
    run.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    run.add_argument("--port", type=port_number, default=8000, help="port (8000)")
    run.add_argument(
        "--server",
        choices=list(SERVERS),
        default="wsgiref",
        help="the standard library's server, a thread per request (default), or waitress",
    )
    run.add_argument("--interval", type=seconds, default=1.0, help="seconds between checks (1)")
    run.add_argument(
        "--extra-file", action="append", default=[], metavar="PATH", help="also watch PATH (glob)"
    )
    run.add_argument(
        "--exclude", action="append", default=[], metavar="PATTERN", help="never watch PATTERN"
    )
    run.add_argument(
        "--on-change",
        choices=list(config.ON_CHANGE),
        default="restart",
        help="restart after the response (default), or answer 503 and retry before it",
    )
    return main


def main(argv: Sequence[str] | None = None) -> int:
    parsed = parser().parse_args(argv)
    if parsed.server == "waitress" and importlib.util.find_spec("waitress") is None:
        print("reloadmw: error: --server waitress needs waitress: pip install waitress",
              file=sys.stderr)  # fmt: skip
        return ExitStatus.BAD_INPUT
    options = {
        "target": parsed.target,
        "host": parsed.host,
        "port": parsed.port,
        "server": parsed.server,
        "interval": parsed.interval,
        "extra_files": config.absolute(parsed.extra_file, "."),
        "exclude": parsed.exclude,
        "on_change": parsed.on_change,
    }
    try:
        return serve(options)
    except ServeError as error:
        print(f"reloadmw: error: {error}", file=sys.stderr)
        return ExitStatus.BAD_INPUT
