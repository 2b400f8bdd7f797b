"""waitress as a ``reloadmw serve`` adapter, with the graceful stop that waitress lacks.

This is the one module that touches waitress's internals: the server's
``accepting`` flag, ``trigger`` and ``channel_class``, its ``active_channels``, each
channel's ``requests``, ``total_outbufs_len``, ``last_activity``, ``will_close`` and
``task_class``, and the task's ``build_response_header`` and ``set_close_on_finish``.
``check_internals`` names any that a waitress release no longer has, and the
pinned range in pyproject.toml is the one the tests run.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

#: How long a waitress connection must have been quiet to be closed as idle: at once,
#: but for a request that may be on its way in.
IDLE_CHANNEL = 0.05

#: What the adapter uses of waitress that is not its public API.
SERVER_INTERNALS = ("accepting", "trigger", "active_channels", "pull_trigger", "channel_class")
CHANNEL_INTERNALS = ("requests", "total_outbufs_len", "last_activity", "will_close", "task_class")
#: And of the task a channel serves a request with.
TASK_INTERNALS = ("build_response_header", "set_close_on_finish")


def closing_channel_class(channel_class: Any) -> Any:
    """waitress's channel, whose tasks close the connection once the server is closing."""
    task_class = channel_class.task_class

    class ClosingTask(task_class):  # type: ignore[misc, valid-type]
        def build_response_header(self) -> Any:
            if self.channel.server.reloadmw_closing:
                self.set_close_on_finish()  # adds "Connection: close"
            return super().build_response_header()

    class ClosingChannel(channel_class):  # type: ignore[misc]
        task_class = ClosingTask

    return ClosingChannel


def missing_internals(server: Any, channel: Any = None) -> list[str]:
    """The internals this adapter needs that ``server`` (and a live ``channel``) lack."""
    missing = [f"server.{name}" for name in SERVER_INTERNALS if not hasattr(server, name)]
    task = getattr(getattr(server, "channel_class", None), "task_class", None)
    missing += [f"task.{name}" for name in TASK_INTERNALS if not hasattr(task, name)]
    if channel is not None:
        missing += [f"channel.{name}" for name in CHANNEL_INTERNALS if not hasattr(channel, name)]
    return missing


class WaitressServer:
    """waitress on a given socket, with the graceful stop that waitress lacks.

    waitress writes a response from its main loop after the application's
    ``close()`` has returned, so a process may only end once every channel has
    flushed its output; idle keep-alive channels are closed first.
    """

    def __init__(self, sock: socket.socket, app: WSGIApplication) -> None:
        from waitress import create_server

        self.server: Any = create_server(app, sockets=[sock], threads=8, ident="waitress")
        # Once this process stops accepting, every response it still sends says
        # "Connection: close", so keep-alive clients go to the next process.
        self.server.channel_class = closing_channel_class(self.server.channel_class)
        self.server.reloadmw_closing = False
        missing = missing_internals(self.server)
        if missing:
            raise RuntimeError(
                f"this waitress has no {', '.join(missing)}, which reloadmw serve needs to "
                "stop it gracefully: install the waitress range that reloadmw names"
            )

    def serve(self) -> None:
        self.server.run()

    def stop_accepting(self) -> None:
        """Stop accepting, and wait until the main loop can accept no more."""
        self.server.reloadmw_closing = True
        self.server.accepting = False
        # A poll in progress may still accept once: two trips through the main
        # loop make sure that the next poll leaves the listening socket out.
        for _ in range(2):
            looped = threading.Event()
            self.server.trigger.pull_trigger(looped.set)
            looped.wait(5)

    def drain(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            channels = list(self.server.active_channels.values())
            if not channels:
                return True
            quiet_since = time.time() - IDLE_CHANNEL
            for channel in channels:
                # A channel with nothing to do for a while is an idle keep-alive
                # connection; a younger one may have a request on its way in.
                idle = not channel.requests and not channel.total_outbufs_len
                if idle and channel.last_activity < quiet_since:
                    channel.will_close = True
            self.server.pull_trigger()
            time.sleep(0.02)
        return False
