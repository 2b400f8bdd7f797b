"""Make this interpreter look like CPython on Windows, as far as the standard library's names go.

A test puts this directory first on PYTHONPATH and sets RELOADMW_SIMULATE=win32;
every Python process started with that environment (``reloadmw serve`` and its
server processes too) then runs with:

- ``sys.platform == "win32"`` and ``os.name == "nt"``;
- the POSIX-only names that Windows' ``os``, ``signal`` and ``socket`` lack removed,
  ``os.supports_dir_fd`` empty, and ``fcntl``, ``pwd``, ``grp``, ``termios`` and
  ``resource`` not importable;
- ``ctypes.WinDLL`` standing in for CDLL (on x86-64 ``__stdcall`` is the C convention),
  ``signal.SIGBREAK`` and the ``CTRL_*_EVENT`` constants (SIGBREAK is SIGTTIN here, so a
  test can send "Ctrl-Break");
- ``socket.socketpair`` built over loopback TCP, as Windows' is, and
  ``socket.socket.share`` / ``socket.fromshare`` built on Linux's ``pidfd_getfd``:
  the receiving process copies the descriptor out of the sharing one. A shared
  socket stays open in the sharing process (WSADuplicateSocket duplicates it into
  the target at once; here the copy is taken later, so it must stay there).

Standard-library modules that read ``sys.platform`` or ``os.name`` when they are
imported are imported first, so that they keep working as on Linux.
"""

from __future__ import annotations

import os
import sys

if os.environ.get("RELOADMW_SIMULATE") == "win32":
    import ctypes
    import importlib
    import signal
    import socket
    import sysconfig

    # Modules that read sys.platform or os.name as they are imported.
    for _module in (
        "ctypes.util", "email.message", "http.client", "http.server", "json", "logging",
        "mimetypes", "pathlib", "platform", "selectors", "shutil", "socketserver",
        "subprocess", "tempfile", "threading", "wsgiref.simple_server",
    ):  # fmt: skip
        importlib.import_module(_module)
    sysconfig.get_config_vars()  # cached: later calls would need what only Windows has

    _PIDFD_GETFD = 438  # the same number on every Linux architecture
    _libc = ctypes.CDLL(None, use_errno=True)
    _pidfd_open = os.pidfd_open
    _kept: list[int] = []

    def _share(self: socket.socket, process_id: int) -> bytes:
        kept = os.dup(self.fileno())
        _kept.append(kept)
        return f"{os.getpid()}:{kept}".encode()

    def _fromshare(info: bytes) -> socket.socket:
        pid, fd = (int(part) for part in info.decode().split(":"))
        pidfd = _pidfd_open(pid)
        try:
            copy = _libc.syscall(_PIDFD_GETFD, pidfd, fd, 0)
            if copy < 0:
                number = ctypes.get_errno()
                raise OSError(number, os.strerror(number))
        finally:
            os.close(pidfd)
        return socket.socket(fileno=copy)

    class _WinDLL(ctypes.CDLL):
        """CDLL, which reads os.name when it loads: "posix" for that moment."""

        def __init__(self, name: str, *args: object, **kwargs: object) -> None:
            os.name = "posix"
            try:
                super().__init__(name, *args, **kwargs)
            finally:
                os.name = "nt"

    def _socketpair(family: int = socket.AF_INET, type: int = socket.SOCK_STREAM, proto: int = 0):
        with socket.create_server(("127.0.0.1", 0)) as listener:
            one = socket.create_connection(listener.getsockname())
            two, _ = listener.accept()
        return one, two

    _WINDOWS_FLAGS = {
        "O_RDONLY", "O_WRONLY", "O_RDWR", "O_APPEND", "O_CREAT", "O_EXCL", "O_TRUNC",
    }  # fmt: skip
    for _name in [name for name in dir(os) if name.startswith("O_")]:
        if _name not in _WINDOWS_FLAGS:
            delattr(os, _name)
    for _name in (
        "getuid", "geteuid", "getgid", "getegid", "getpgid", "getpgrp", "setsid", "killpg",
        "pwrite", "pread", "set_blocking", "get_blocking", "fork", "forkpty", "wait3",
        "wait4", "pidfd_open", "uname", "sync", "sched_getaffinity",
    ):  # fmt: skip
        if hasattr(os, _name):
            delattr(os, _name)
    os.supports_dir_fd = set()
    os.name = "nt"
    for _name in (
        "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGCHLD", "SIGPIPE", "SIGKILL",
        "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGWINCH", "pthread_kill", "pthread_sigmask",
        "setitimer", "getitimer", "siginterrupt", "pause", "alarm", "sigwait",
    ):  # fmt: skip
        if hasattr(signal, _name):
            delattr(signal, _name)
    signal.SIGBREAK = signal.SIGTTIN
    signal.CTRL_C_EVENT, signal.CTRL_BREAK_EVENT = 0, 1
    for _name in ("AF_UNIX", "SO_REUSEPORT", "sethostname", "CMSG_LEN", "send_fds", "recv_fds"):
        if hasattr(socket, _name):
            delattr(socket, _name)
    socket.socketpair = _socketpair
    socket.socket.share = _share
    socket.fromshare = _fromshare
    ctypes.WinDLL = _WinDLL
    for _name in ("fcntl", "pwd", "grp", "termios", "resource"):
        sys.modules[_name] = None  # type: ignore[assignment]
    sys.platform = "win32"
