"""reloadmw.serve.preload in-process: a forked child as the supervisor sees it, and what a
template is asked to import."""

from __future__ import annotations

import os
import selectors
import socket
import subprocess

import pytest

from reloadmw.serve import preload, protocol

pytestmark = pytest.mark.linux


def test_a_forked_child_is_polled_waited_for_and_killed():
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    child = preload.Forked(pid)
    assert child.wait(5) == 7
    assert child.poll() == 7
    sleeper = os.fork()
    if sleeper == 0:
        import time

        time.sleep(30)
        os._exit(0)
    child = preload.Forked(sleeper)
    with pytest.raises(subprocess.TimeoutExpired):
        child.wait(0.05)
    child.kill()
    assert child.wait(5) == -9


def test_only_names_not_asked_and_not_left_out_go_to_the_template():
    mine, theirs = socket.socketpair()
    with mine, theirs, selectors.DefaultSelector() as selector:
        preloader = preload.Preloader(mine, selector, say=lambda line: None)
        preloader.control = mine  # a template stand-in: what it is told arrives on theirs
        preloader.left_out = {"threadlib"}
        preloader.feed(["json", "threadlib", "threadlib.sub", "email.parser"])
        preloader.feed(["json", "decimal"])
        reader, told = protocol.Reader(), []
        theirs.settimeout(5)
        while len(told) < 2:
            told += reader.feed(theirs.recv(65536))
        # (what was left out goes too: the template refuses it where a library imports it)
        assert told == [
            protocol.Preload(["json", "email.parser"], avoid=["threadlib"]),
            protocol.Preload(["decimal"], avoid=["threadlib"]),
        ]
        assert not preloader.ready  # until the template says Preloaded
        preloader.control = None


def test_the_supervisor_can_adopt_what_its_template_forks():
    assert preload.available()
    pid = os.fork()
    if pid == 0:  # (in a child: the test process itself stays as it was)
        os._exit(0 if preload.become_subreaper() else 1)
    assert os.waitpid(pid, 0)[1] == 0
