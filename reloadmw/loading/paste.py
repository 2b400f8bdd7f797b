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

import os
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


def setup_logging(path: str) -> bool:
    """The logging of the ini file at ``path``, set up as ``pserve`` sets it up (Pyramid's
    ``paster.setup_logging``): when it has a ``[loggers]`` section, ``logging.config``'s
    ``fileConfig`` with ``here`` and ``__file__`` defined, and the loggers that exist kept.
    Whether it had one; a ``ValueError`` that names the file when its sections do not load."""
    import configparser
    import logging.config

    path = os.path.abspath(path)
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as error:
        raise ValueError(f"{path}: {error}") from error
    if not parser.has_section("loggers"):
        return False
    defaults = {"here": os.path.dirname(path), "__file__": path}
    try:
        logging.config.fileConfig(path, defaults, disable_existing_loggers=False)
    except (KeyError, ValueError, TypeError, AttributeError, ImportError,
            configparser.Error) as error:  # fmt: skip
        raise ValueError(
            f"{path}: its logging sections ([loggers], [handlers], [formatters]) do not load: "
            f"{type(error).__name__}: {error}"
        ) from error
    return True
