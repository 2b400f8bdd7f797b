"""``package.module:attribute`` names: how reloadmw imports an object that a user names.

One resolver for ``hook="package.module:function"`` and for the targets of
``import_app`` and ``reloadmw serve``. It imports no reloadmw module, so both
the hooks and the top of the package can use it.
"""

from __future__ import annotations

import importlib
from typing import Any


def split(name: str) -> tuple[str, list[str]]:
    """``"pkg.mod:a.b"`` as ``("pkg.mod", ["a", "b"])``; ValueError when it is not such a name."""
    module, _, attribute = name.partition(":")
    module = module.strip()
    attributes = [part.strip() for part in attribute.split(".")] if attribute.strip() else []
    if not module or not all(part.isidentifier() for part in [*module.split("."), *attributes]):
        raise ValueError(f"{name!r} is not 'package.module:name'")
    return module, attributes


def find(name: str, default: str | None = None) -> Any:
    """Import the module of ``name`` and return the attribute it names (or ``default``).

    Raises ValueError for a malformed name, and whatever the import or the
    attribute lookup raises (ModuleNotFoundError, AttributeError, the module's own error).
    """
    module, attributes = split(name)
    return walk(importlib.import_module(module), attributes or ([default] if default else []))


def walk(found: Any, attributes: list[str]) -> Any:
    """``found.a.b`` for ``["a", "b"]``; AttributeError where one is missing."""
    for part in attributes:
        found = getattr(found, part)
    return found


def names_missing_module(error: ModuleNotFoundError, module: str) -> bool:
    """Whether ``error`` is about ``module`` itself (or a package above it), not one inside."""
    parts = module.split(".")
    return error.name in {".".join(parts[:depth]) for depth in range(1, len(parts) + 1)}
