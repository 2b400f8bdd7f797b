"""``reloadmw serve``: a supervisor that owns the socket, and one server process at a time.

- ``supervisor``: binds once, starts server processes, replaces one on a change, stops all.
- ``process``: a server process: the application behind an adapter, and the hand-over hook.
- ``adapter``: the interface of a server (serve, stop accepting, drain), and the servers by
  name; ``wsgiref_adapter`` and ``waitress_adapter``: the two servers.
- ``preload`` (the supervisor's side) and ``template`` (a process of its own): on Linux, each
  new server process is forked from a template that has the libraries imported.
- ``protocol``: the messages between supervisor and processes, and the exit statuses.
- ``platform``: how a process gets its sockets, and which signals stop it, per platform.
"""

from .protocol import ExitStatus
from .supervisor import ServeError, serve

__all__ = ["ExitStatus", "ServeError", "serve"]
