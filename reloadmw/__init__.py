"""reloadmw: restart the WSGI server's process when the code changes, with no watcher thread."""

from typing import TYPE_CHECKING, Any

from .middleware import ReloadMiddleware
from .options import Options

if TYPE_CHECKING:
    from . import hooks
    from .loading.paste import filter_app_factory, filter_factory
    from .loading.targets import TargetError, import_app

#: Imported when first used: the middleware needs none of them when it is built.
_LAZY = {
    "hooks": "", "filter_app_factory": "loading.paste", "filter_factory": "loading.paste",
    "TargetError": "loading.targets", "import_app": "loading.targets",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    module = importlib.import_module(f"{__name__}.{_LAZY[name] or name}")
    return module if not _LAZY[name] else getattr(module, name)


__all__ = [
    "Options",
    "ReloadMiddleware",
    "TargetError",
    "filter_app_factory",
    "filter_factory",
    "hooks",
    "import_app",
]
