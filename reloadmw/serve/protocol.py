"""What the supervisor and a server process say to each other, and how a process exits.

Messages travel as JSON lines on the control socket pair: from the process,
``Ready``, ``Restart``, ``Failed`` and ``Unfit``; from the supervisor, ``Stop``. The
preload template (``reloadmw.serve.template``, Linux) gets ``Preload`` and
``Spawn`` and says ``Preloaded``, ``Spawned``, ``LeftOut`` and ``Stale``. Both
sides use ``encode`` and ``Reader`` only, so a message is spelled in one place.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field


class ExitStatus(enum.IntEnum):
    """Exit statuses of ``reloadmw serve`` and of its server processes."""

    #: Stopped by Ctrl-C, Ctrl-Break or SIGTERM, after finishing its responses.
    STOPPED = 0
    #: The first server process died before it ever served (its traceback is above).
    CRASHED = 1
    #: Bad input (a target that names nothing, a port in use): one line says why.
    BAD_INPUT = 2
    #: A server process that handed over to its successor and drained.
    HANDED_OVER = 3
    #: A server process forked from the preload template that could not import the
    #: application: a fresh interpreter takes its place.
    UNFIT = 4


@dataclass(frozen=True)
class Ready:
    """The process serves; ``watched`` sums up its watched files (``disabled``: why none);
    ``libraries``: the modules it loaded from the standard library and site-packages."""

    pid: int
    watched: str
    disabled: str = ""
    libraries: list[str] = field(default_factory=list)
    #: False where it serves the error of the application's import instead.
    imported: bool = True
    #: Warnings for the user, which the supervisor prints once.
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Restart:
    """The process found ``changed`` files: start its successor now (``libraries``: as in
    Ready, by now)."""

    pid: int
    changed: list[str] = field(default_factory=list)
    libraries: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Failed:
    """The target names nothing that exists: the process exits with BAD_INPUT."""

    pid: int
    message: str


@dataclass(frozen=True)
class Unfit:
    """From a process forked from the preload template, which then exits: the application
    failed to import there (``module``: the library where it failed, or ""). The supervisor
    starts a fresh interpreter instead; where that one imports it, the template is to blame."""

    pid: int
    module: str


@dataclass(frozen=True)
class Stop:
    """From the supervisor: finish the responses in flight, then exit."""


@dataclass(frozen=True)
class Preload:
    """To the template: import these modules (those it has not yet), and never those of
    ``avoid`` (left out before), nor their submodules."""

    names: list[str]
    avoid: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Preloaded:
    """From the template: it has imported what it was asked, ``count`` modules in all."""

    count: int


@dataclass(frozen=True)
class LeftOut:
    """From the template, which then exits: importing ``name`` did what a template must not
    (``why``); a new template leaves it out."""

    name: str
    why: str


@dataclass(frozen=True)
class Spawn:
    """To the template, with a server process's control socket: fork one, to run ``launch``
    (the target, the server and the options, as ``reloadmw.serve.process`` takes them)."""

    launch: list[str]


@dataclass(frozen=True)
class Spawned:
    """From the template: the server process ``pid`` runs (the supervisor is its parent)."""

    pid: int


@dataclass(frozen=True)
class Stale:
    """From the template, which then exits: ``path``, a file it loaded, changed."""

    path: str


Message = (
    Ready
    | Restart
    | Failed
    | Unfit
    | Stop
    | Preload
    | Preloaded
    | LeftOut
    | Spawn
    | Spawned
    | Stale
)
_KINDS: dict[str, type[Message]] = {
    kind.__name__.lower(): kind
    for kind in (
        Ready,
        Restart,
        Failed,
        Unfit,
        Stop,
        Preload,
        Preloaded,
        LeftOut,
        Spawn,
        Spawned,
        Stale,
    )
}


def encode(message: Message) -> bytes:
    """One JSON line."""
    fields = asdict(message)
    return json.dumps({"kind": type(message).__name__.lower(), **fields}).encode() + b"\n"


def decode(line: bytes) -> Message:
    """The message of one line; ValueError for a line that is not one."""
    try:
        data = json.loads(line)
        kind = _KINDS[data.pop("kind")]
        return kind(**data)
    except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as error:
        raise ValueError(f"not a reloadmw serve message: {line[:200]!r}") from error


class Reader:
    """Messages out of the bytes read from a socket, whatever the chunks."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[Message]:
        self._buffer += data
        *lines, self._buffer = self._buffer.split(b"\n")
        return [decode(line) for line in lines if line.strip()]


def watch_also(options: str, paths: Sequence[str]) -> str:
    """The options (as JSON, see ``Options.to_json``) with ``paths`` added to ``extra_files``."""
    if not paths:
        return options
    values = json.loads(options)
    values["extra_files"] = list(dict.fromkeys([*values.get("extra_files", []), *paths]))
    return json.dumps(values)
