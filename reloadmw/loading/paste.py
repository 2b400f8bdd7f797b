"""PasteDeploy factories, published as the ``egg:reloadmw`` entry points.

``[filter:reload]`` (in a pipeline or through ``filter-with``) uses
``filter_factory``; ``[filter-app:...]`` uses it too, and ``filter_app_factory``
serves ini files that name the ``paste.filter_app_factory`` protocol. The
section's strings become ``Options`` once (``Options.from_ini``): relative
``extra_files`` resolve against the ini file's directory, and an option that
``[DEFAULT]`` defines reaches the filter only through the global
configuration: from ``[DEFAULT]`` itself, or from ``set name = value`` in the
filter's section.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..middleware import ReloadMiddleware
from ..options import Options

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


def filter_factory(
    global_conf: Mapping[str, Any], **local_conf: Any
) -> Callable[[WSGIApplication], ReloadMiddleware]:
    """PasteDeploy ``paste.filter_factory``: options from the ini, checked now."""
    options = Options.from_ini(local_conf, global_conf)

    def make_filter(app: WSGIApplication) -> ReloadMiddleware:
        return ReloadMiddleware(app, options=options)

    return make_filter


def filter_app_factory(
    app: WSGIApplication, global_conf: Mapping[str, Any], **local_conf: Any
) -> ReloadMiddleware:
    """PasteDeploy ``paste.filter_app_factory``: wrap ``app`` with options from the ini."""
    return ReloadMiddleware(app, options=Options.from_ini(local_conf, global_conf))
