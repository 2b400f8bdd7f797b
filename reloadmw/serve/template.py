"""The preload template of ``reloadmw serve`` (Linux): libraries imported once, a fork per start.

The supervisor starts this module with the listening socket and a control
socket, as it starts a server process. It never imports the application. It
imports the modules named by ``Preload`` (those that a server process had
loaded from the standard library and site-packages: never the project's code,
never a watched file), one at a time, and a module whose import started a
thread (Python's or a native one), opened a socket, or imported a module from
outside the libraries (the project's code, or its settings) makes it exit with
``LeftOut``: the supervisor starts a new template without that module (one
DEBUG line each). A module that fails to import is skipped.

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
import importlib
import logging
import os
import signal
import socket
import sys
import threading
import traceback
from collections.abc import Iterator

from ..watch import file_state, module_file
from ..watch.sources import is_site_path, library_dirs
from . import process, protocol

log = logging.getLogger("reloadmw")

#: reloadmw's own files: the template runs them, they are no project code.
OWN = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _sockets() -> int:
    """How many sockets this process has open."""
    count = 0
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            count += os.readlink(f"/proc/self/fd/{name}").startswith("socket:")
    return count


def _threads() -> int:
    """How many threads this process runs, Python's and native ones."""
    return max(threading.active_count(), len(os.listdir("/proc/self/task")))


class Template:
    def __init__(self, listening: socket.socket, control: socket.socket) -> None:
        self.listening = listening
        self.control = control
        self._stdlib, self._site = library_dirs()
        self._files: dict[str, object] = {}  # what it loaded, and the state it had

    def _outside(self, names: Iterator[str]) -> str | None:
        """A module among ``names`` whose file is not a library's (nor reloadmw's)."""
        for name in names:
            path = module_file(sys.modules.get(name))
            if path is None or path.startswith((*self._stdlib, OWN)):
                continue
            if not is_site_path(path, self._site):  # as the watcher tells them apart
                return name
        return None

    def preload(self, names: list[str]) -> None:
        """Import ``names``; on a module that misbehaves, say so and exit."""
        for name in names:
            if name in sys.modules:
                continue
            before, threads, sockets = set(sys.modules), _threads(), _sockets()
            try:
                importlib.import_module(name)
            except BaseException as error:  # (a module may even call sys.exit)
                log.debug("not preloaded: %s (%s: %s)", name, type(error).__name__, error)
            why = ""
            if _threads() > threads:
                why = "it started a thread"
            elif _sockets() > sockets:
                why = "it opened a socket"
            elif (outside := self._outside(iter(set(sys.modules) - before))) is not None:
                why = f"it imported {outside}, which is not a library's"
            if why:
                self.tell(protocol.LeftOut(name, why))
                os._exit(0)
        self._remember()
        self.tell(protocol.Preloaded(len(sys.modules)))

    def _remember(self) -> None:
        """The state of every file it loaded, and of the ``.pth`` files, as now."""
        paths = {module_file(module) for module in list(sys.modules.values())}
        for directory in library_dirs()[1]:
            with contextlib.suppress(OSError):
                paths.update(
                    os.path.join(directory, n) for n in os.listdir(directory) if n.endswith(".pth")
                )
        self._files = {path: file_state(path) for path in paths if path is not None}

    def stale(self) -> str | None:
        """A file it loaded that changed since, if any."""
        for path, state in self._files.items():
            if file_state(path) != state:
                return path
        return None

    def spawn(self, launch: list[str], control: int) -> None:
        """Fork the server process for ``launch``, its control socket ``control``."""
        if sys.platform == "win32":  # (the supervisor starts a template on Linux only)
            raise OSError("no preload template on Windows")
        read, write = os.pipe()
        middle = os.fork()
        if middle == 0:  # the middle child: fork the server process, then exit at once
            try:
                os.close(read)
                server = os.fork()
                if server == 0:
                    os.close(write)
                    self._become_server(launch, control)
                os.write(write, str(server).encode())
            finally:
                os._exit(0)
        os.close(write)
        os.close(control)
        with os.fdopen(read, "rb") as pipe:
            pid = pipe.read()
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
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            sockets = [str(self.listening.fileno()), str(control)]
            sys.argv = [process.__file__ or "", *launch, *sockets]
            process.main(sys.argv[1:])
            status = 0
        except SystemExit as exit:
            status = exit.code if isinstance(exit.code, int) else 1
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(status)

    def tell(self, message: protocol.Message) -> None:
        self.control.sendall(protocol.encode(message))

    def run(self) -> None:
        """Answer the supervisor until it is gone."""
        if sys.platform == "win32":
            raise OSError("no preload template on Windows")
        reader = protocol.Reader()
        while True:
            data, fds, _, _ = socket.recv_fds(self.control, 1 << 20, 4)
            if not data:
                os._exit(0)
            messages = reader.feed(data)
            for message in messages:
                if isinstance(message, protocol.Preload):
                    self.preload(message.names)
                elif isinstance(message, protocol.Spawn) and fds:
                    if (path := self.stale()) is not None:
                        self.tell(protocol.Stale(path))
                        os._exit(0)
                    self.spawn(message.launch, fds.pop(0))
                elif isinstance(message, protocol.Stop):
                    os._exit(0)


def main(arguments: list[str]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the terminal's Ctrl-C is the supervisor's
    listening, control = (socket.socket(fileno=int(a)) for a in arguments[:2])
    Template(listening, control).run()


if __name__ == "__main__":
    main(sys.argv[1:])
