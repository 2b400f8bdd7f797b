"""The preload template of ``reloadmw serve`` (Linux): libraries imported once, a fork per start.

The supervisor starts this module with the listening socket and a control
socket, as it starts a server process. It never imports the application. It
imports the modules named by ``Preload`` (those that a server process had
loaded from the standard library and site-packages: never the project's code,
never a watched file), one at a time. A finder first on ``sys.meta_path`` stops
any module from outside the libraries before it runs (the project's code, its
settings), and any module left out before: the import that wanted it fails.
An import that fails is skipped, and so are the submodules it left behind
(a package whose ``__init__`` raised keeps the submodules it had imported:
a Django library imported before the project's settings exist, say, which the
application would then find half made). A module whose import left a thread
(Python's or a native one), a descriptor (a file, a socket), or a changed
working directory, environment or ``sys.path`` (other than a library's own
directories added at its end, as ``pkg_resources`` adds setuptools' vendored
one) makes the template exit with ``LeftOut``: the supervisor says so and
starts a new template without that module.

On ``Spawn``, which brings the new server process's control socket, it first
looks at every file it loaded, and at the ``.pth`` files of site-packages: one
that changed (an upgrade with pip, an edit with ``include_site_packages``)
makes it exit with ``Stale``, and the supervisor starts that process afresh and
a new template. Otherwise it forks twice: the grandchild, whose parent becomes
the supervisor (a child subreaper), leads a process group of its own and runs
``reloadmw.serve.process`` as ``python -m`` would have (its ``sys.argv``, the
same working directory, environment and ``sys.path``; ``random`` reseeded and
every ``os.register_at_fork`` handler run by ``os.fork``; no thread to inherit).
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import importlib.abc
import importlib.machinery
import logging
import os
import signal
import socket
import sys
import traceback
import warnings

from ..watch import file_state, module_file
from . import process, protocol
from .imports import (
    CHANGES,
    Libraries,
    LibrariesOnly,
    ProjectCode,
    forget_orphans,
    quiet_unraisable,
    quiet_warning,
    state,
)

log = logging.getLogger("reloadmw")

_PR_SET_PDEATHSIG = 1


class Template:
    def __init__(self, listening: socket.socket, control: socket.socket) -> None:
        self.listening = listening
        self.control = control
        self.libraries = Libraries()
        self.finder = LibrariesOnly(self.libraries)
        self._files: dict[str, object] = {}  # what it loaded, and the state it had
        self._fds: list[int] = []  # control sockets received, one per Spawn
        self.showwarning = warnings.showwarning  # the server process's, as it was

    def preload(self, names: list[str]) -> None:
        """Import ``names``; on a module that leaves a trace, say so and exit."""
        for name in names:
            if name in sys.modules:
                continue
            before, modules = state(), set(sys.modules)
            try:
                importlib.import_module(name)
            except (Exception, ProjectCode, SystemExit) as error:
                log.debug("not preloaded: %s (%s: %s)", name, type(error).__name__, error)
                forget_orphans(modules)
            after = state()
            why = [
                w
                for w, b, a in zip(CHANGES, before, after, strict=True)
                if a != b and not (w == CHANGES[-1] and self._extends_path(b, a))
            ]
            for new in set(sys.modules) - modules:  # (a finder of its own let it through)
                path = module_file(sys.modules.get(new))
                if path is not None and not self.libraries.holds(path):
                    why.append(f"it imported {new}, which is not a library's")
            if why:
                self.tell(protocol.LeftOut(name, why[0]))
                os._exit(0)
        self._remember()
        self.tell(protocol.Preloaded(len(sys.modules)))

    def _extends_path(self, before: object, after: object) -> bool:
        """Whether ``sys.path`` only gained library directories at its end (a library's
        own vendored directory): the application's process would gain them too."""
        assert isinstance(before, list) and isinstance(after, list)
        added = after[len(before) :]
        return after[: len(before)] == before and all(self.libraries.holds(
            os.path.join(os.path.abspath(entry), "")) for entry in added)  # fmt: skip

    def _remember(self) -> None:
        """The state of every file it loaded, and of the site directories' ``.pth`` files."""
        paths = {module_file(module) for module in list(sys.modules.values())}
        for directory in self.libraries.site:
            with contextlib.suppress(OSError):
                paths.add(directory)  # (a new .pth file, a new package: its mtime moves)
                paths.update(os.path.join(directory, n) for n in os.listdir(directory)
                             if n.endswith(".pth"))  # fmt: skip
        self._files = {path: file_state(path) for path in paths if path is not None}

    def stale(self) -> str | None:
        """A file it loaded that changed since, if any."""
        for path, was in self._files.items():
            if file_state(path) != was:
                return path
        return None

    def spawn(self, launch: list[str], control: int) -> None:
        """Fork the server process for ``launch``, its control socket ``control``."""
        if sys.platform == "win32":  # (the supervisor starts a template on Linux only)
            raise OSError("no preload template on Windows")
        read, write = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        middle = os.fork()
        if middle == 0:  # the middle child: fork the server process, then exit at once
            try:
                os.close(read)
                server = os.fork()
                if server == 0:
                    os.close(write)
                    self._become_server(launch, control)
                os.write(write, f"{server}\n".encode())
            finally:
                os._exit(0)
        os.close(write)
        os.close(control)
        with os.fdopen(read, "rb") as pipe:
            pid = pipe.readline().strip()
        os.waitpid(middle, 0)
        self.tell(protocol.Spawned(int(pid or 0)))

    def _become_server(self, launch: list[str], control: int) -> None:
        """In the server process: what ``python -m reloadmw.serve.process`` runs. Never returns."""
        status = 1
        try:
            if sys.platform == "win32":
                raise OSError("no preload template on Windows")
            os.setpgid(0, 0)
            self.control.close()
            for fd in self._fds:
                os.close(fd)
            sys.meta_path.remove(self.finder)
            sys.unraisablehook = sys.__unraisablehook__
            warnings.showwarning = self.showwarning
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            sockets = [str(self.listening.fileno()), str(control)]
            sys.argv = [process.__file__ or "", *launch, *sockets]
            sys.orig_argv = [sys.executable, "-m", "reloadmw.serve.process", *sys.argv[1:]]
            process.main(sys.argv[1:], forked=True)
            status = 0
        except SystemExit as exit:
            status = exit.code if isinstance(exit.code, int) else int(exit.code is not None)
            if isinstance(exit.code, str):
                print(exit.code, file=sys.stderr)
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)

    def tell(self, message: protocol.Message) -> None:
        self.control.sendall(protocol.encode(message))

    def run(self) -> None:
        """Answer the supervisor until it is gone."""
        if sys.platform == "win32":
            raise OSError("no preload template on Windows")
        reader = protocol.Reader()
        while True:
            data, fds, _, _ = socket.recv_fds(self.control, 1 << 20, 8)
            self._fds += fds  # (a long message's descriptor comes with its first part)
            if not data:
                os._exit(0)
            for message in reader.feed(data):
                if isinstance(message, protocol.Preload):
                    self.finder.avoid.update(message.avoid)
                    self.preload(message.names)
                elif isinstance(message, protocol.Spawn) and self._fds:
                    if (path := self.stale()) is not None:
                        self.tell(protocol.Stale(path))
                        os._exit(0)
                    self.spawn(message.launch, self._fds.pop(0))
                elif isinstance(message, protocol.Stop):
                    os._exit(0)


def _die_with_parent(number: int) -> None:
    """Have the kernel send ``number`` when the parent dies (0: nothing)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, number, 0, 0, 0)


def main(arguments: list[str]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the terminal's Ctrl-C is the supervisor's
    if sys.platform != "win32":  # a busy template must not outlive the supervisor
        parent = os.getppid()
        _die_with_parent(signal.SIGKILL)
        if os.getppid() != parent:
            os._exit(0)
    listening, control = (socket.socket(fileno=int(a)) for a in arguments[:2])
    template = Template(listening, control)
    sys.meta_path.insert(0, template.finder)
    sys.unraisablehook = quiet_unraisable
    template.showwarning, warnings.showwarning = warnings.showwarning, quiet_warning
    template.run()


if __name__ == "__main__":
    main(sys.argv[1:])
