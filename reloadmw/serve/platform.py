"""How a ``reloadmw serve`` server process gets its sockets: where serve differs by platform.

Every server process receives the listening socket (owned by the supervisor for
its whole life, so connections wait in its backlog during a restart) and its end
of a control socket pair (JSON lines both ways).

- POSIX: the descriptors are inherited (``pass_fds``) and named on the command line.
- Windows: a socket is not a descriptor a child can inherit by number. The
  supervisor starts the process, then writes ``socket.share(pid)`` for each
  socket to its standard input (WSADuplicateSocket underneath), and the process
  rebuilds them with ``socket.fromshare``.

Only sockets are used, never pipes, because ``select`` on Windows takes sockets alone.
"""

from __future__ import annotations

import base64
import signal
import socket
import subprocess
import sys


def start(
    command: list[str], listening: socket.socket, control: socket.socket
) -> subprocess.Popen[bytes]:
    """Start ``command`` with both sockets; the caller then closes its copy of ``control``."""
    if sys.platform == "win32":
        process = subprocess.Popen(command, stdin=subprocess.PIPE)
        stdin = process.stdin
        assert stdin is not None
        try:
            with stdin:
                for sock in (listening, control):
                    stdin.write(base64.b64encode(sock.share(process.pid)) + b"\n")
        except OSError:  # it died at once: the supervisor reports its exit status
            pass
        return process
    fds = (listening.fileno(), control.fileno())
    # A process group of its own: the terminal's Ctrl-C reaches the supervisor alone, which
    # then stops each server process (one that is still starting too) without a traceback.
    return subprocess.Popen([*command, *map(str, fds)], pass_fds=fds, process_group=0)


def receive(arguments: list[str]) -> tuple[socket.socket, socket.socket]:
    """The listening socket and the control socket that ``start`` gave this process.

    ``arguments`` are the command line's arguments after those of ``command``.
    """
    if sys.platform == "win32":
        shared = [base64.b64decode(sys.stdin.buffer.readline()) for _ in range(2)]
        return socket.fromshare(shared[0]), socket.fromshare(shared[1])
    listening, control = (int(argument) for argument in arguments[:2])
    return socket.socket(fileno=listening), socket.socket(fileno=control)


def stop_signals() -> list[int]:
    """The signals that stop the supervisor: Ctrl-C, SIGTERM, and Ctrl-Break on Windows."""
    if sys.platform == "win32":
        return [signal.SIGINT, signal.SIGTERM, signal.SIGBREAK]
    return [signal.SIGINT, signal.SIGTERM]


def ignore_console_signals() -> None:
    """In a server process: the terminal's Ctrl-C (and Ctrl-Break) are for the supervisor.

    A console sends them to every process of the job; the supervisor then tells
    each server process to stop, and it finishes its responses first.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform == "win32":
        signal.signal(signal.SIGBREAK, signal.SIG_IGN)
