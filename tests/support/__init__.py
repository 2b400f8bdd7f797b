"""Helpers for the tests, by what they help with; ``support.X`` reaches each of them.

- ``files``: modules on disk, edits that move the mtime, C libraries built with gcc.
- ``clock``: a monotonic clock the tests move.
- ``network``: free ports, requests, bounded waits.
- ``processes``: real servers on 127.0.0.1, stopped by their pids; required executables.
- ``edits``: the versioned test app, and what clients see around an edit under a server.
"""

from .clock import Clock
from .edits import (
    APPS,
    BIG,
    PASTE_PIPELINE,
    EditOutcome,
    LoadReport,
    echo,
    edit_and_watch,
    install_versioned_app,
    load_while_editing,
    template_edit_restarts,
    versions_on_one_connection,
)
from .files import ModuleMaker, build_library, remove_tree, write
from .network import STARTUP_TIMEOUT, Response, free_port, get, wait_for, wait_for_workers
from .processes import Server, require_executable, stop_and_time

__all__ = [
    "APPS",
    "BIG",
    "PASTE_PIPELINE",
    "STARTUP_TIMEOUT",
    "Clock",
    "EditOutcome",
    "LoadReport",
    "ModuleMaker",
    "Response",
    "Server",
    "build_library",
    "echo",
    "edit_and_watch",
    "free_port",
    "get",
    "install_versioned_app",
    "load_while_editing",
    "remove_tree",
    "require_executable",
    "stop_and_time",
    "template_edit_restarts",
    "versions_on_one_connection",
    "wait_for",
    "wait_for_workers",
    "write",
]
