"""PasteDeploy factories, published as the ``egg:reloadmw`` entry points.

``[filter:reload]`` (in a pipeline or through ``filter-with``) uses
``filter_factory``; ``[filter-app:...]`` uses it too, and ``filter_app_factory``
serves ini files that name the ``paste.filter_app_factory`` protocol. Values
arrive as strings and are converted by ``reloadmw.config``; relative
``extra_files`` resolve against the ini file's directory.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable, Mapping

from . import config
from .middleware import ReloadMiddleware

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


def _options(global_conf: Mapping[str, Any], local_conf: Mapping[str, Any]) -> dict[str, Any]:
    options = config.parse_settings(dict(local_conf))
    if "extra_files" in options:
        here = global_conf.get("here") or os.getcwd()
        options["extra_files"] = config.absolute(options["extra_files"], here)
    return options


def filter_factory(
    global_conf: Mapping[str, Any], **local_conf: Any
) -> Callable[[WSGIApplication], ReloadMiddleware]:
    """PasteDeploy ``paste.filter_factory``: options from the ini, checked now."""
    options = _options(global_conf, local_conf)
    # Build once with a stand-in app, so that hook and pattern errors show at load time.
    ReloadMiddleware(_unused_app, **{**options, "enabled": False})

    def make_filter(app: WSGIApplication) -> ReloadMiddleware:
        return ReloadMiddleware(app, **options)

    return make_filter


def filter_app_factory(
    app: WSGIApplication, global_conf: Mapping[str, Any], **local_conf: Any
) -> ReloadMiddleware:
    """PasteDeploy ``paste.filter_app_factory``: wrap ``app`` with options from the ini."""
    return ReloadMiddleware(app, **_options(global_conf, local_conf))


def _unused_app(environ: Any, start_response: Any) -> Any:  # pragma: no cover
    raise RuntimeError("reloadmw: configuration check only")
