"""Who answers once a change is found: one successor per way, chosen once per process.

The request that finds a change, and any that comes to this process after it, is
answered by a ``Successor``, which the middleware chooses when it prepares, from the
hook and the options (``choose``):

- ``HandOver`` (``reloadmw serve``): the new process, which this one sends them to;
- ``Replay`` (mod_wsgi daemon mode): mod_wsgi replays the request in the new process;
- ``Fresh`` (gunicorn, uWSGI): a fresh interpreter with the new code, shared by the old
  workers, until the server has replaced them;
- ``Retry`` (``on_change="retry"``): a page that reloads itself;
- ``Successor`` itself: the old code answers that request, and the next comes from the
  new process (a bare waitress or wsgiref, an ini pipeline, a hook of one's own).

The hook only restarts (``reloadmw.hooks``); the check only finds changes
(``reloadmw.check``), in the states it names.
"""

from .base import Restart, Successor

__all__ = ["Restart", "Successor"]  # the others, from their modules, once one is chosen
