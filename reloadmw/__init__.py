"""reloadmw: restart the WSGI server's process when the code changes, with no watcher thread."""

from . import hooks
from .middleware import ReloadMiddleware
from .options import Options
from .paste import filter_app_factory, filter_factory
from .targets import TargetError, import_app

__all__ = [
    "Options",
    "ReloadMiddleware",
    "TargetError",
    "filter_app_factory",
    "filter_factory",
    "hooks",
    "import_app",
]
