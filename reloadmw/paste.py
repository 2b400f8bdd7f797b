"""PasteDeploy factories, published as the ``egg:reloadmw`` entry points.

``[filter:reload]`` (in a pipeline or through ``filter-with``) uses
``filter_factory``; ``[filter-app:...]`` uses it too, and ``filter_app_factory``
serves ini files that name the ``paste.filter_app_factory`` protocol. Values
arrive as strings and are converted by ``reloadmw.config``; relative
``extra_files`` resolve against the ini file's directory. An option that
``[DEFAULT]`` defines reaches the filter only through the global
configuration: from ``[DEFAULT]`` itself, or from ``set name = value`` in the
filter's section.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from . import config
from .middleware import ReloadMiddleware

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


def _options(global_conf: Mapping[str, Any], local_conf: Mapping[str, Any]) -> dict[str, Any]:
    settings = dict(local_conf)
    config.parse_settings(settings)  # unknown keys in the section are errors
    # PasteDeploy gives a section none of the keys that [DEFAULT] defines, not even
    # the section's own value; a `set name = value` line lands in global_conf.
    for name in config.OPTIONS:
        if name not in settings and name in global_conf:
            settings[name] = global_conf[name]
    options = config.parse_settings(settings)
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
