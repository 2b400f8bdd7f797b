"""How a server process gets its sockets, per platform (Windows: tests/test_windows.py)."""

from __future__ import annotations

import signal
import socket
import sys

import pytest

from reloadmw.serve import platform

pytestmark = pytest.mark.posix

RECEIVER = """
import sys
from reloadmw.serve import platform
listening, control = platform.receive(sys.argv[1:])
control.sendall(repr(listening.getsockname()).encode())
"""


def test_both_sockets_reach_the_process():
    listening = socket.create_server(("127.0.0.1", 0))
    mine, theirs = socket.socketpair()
    try:
        process = platform.start([sys.executable, "-c", RECEIVER], listening, theirs)
        theirs.close()
        assert process.wait(30) == 0
        assert mine.recv(100).decode() == repr(listening.getsockname())
    finally:
        listening.close()
        mine.close()


def test_ctrl_c_and_sigterm_stop_the_supervisor():
    assert platform.stop_signals() == [signal.SIGINT, signal.SIGTERM]
