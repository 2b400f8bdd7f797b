"""Did a file change? What is watched, and the backends that answer.

Knows nothing of WSGI or of restart hooks: the middleware asks ``Watcher.check()``
and decides what to do with the answer.

- ``watcher``: the watched files (module sources, extra files and globs) and their baselines.
- ``sources``: which file a module came from, and what its cached bytecode proves.
- ``patterns``: glob patterns over whole paths (``exclude``).
- ``backend``: the interface; ``stat`` and ``inotify``: the two backends, each with its
  own platform code.
"""

from .backend import Backend, Unavailable
from .sources import State, file_state, forget_bytecode, module_file
from .watcher import BACKENDS, UNKNOWN, Watcher

__all__ = [
    "BACKENDS",
    "UNKNOWN",
    "Backend",
    "State",
    "Unavailable",
    "Watcher",
    "file_state",
    "forget_bytecode",
    "module_file",
]
