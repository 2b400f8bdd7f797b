"""Where a module's code comes from on disk, and what its cached bytecode says.

Nothing here imports anything or runs a module's code: modules are read through
their ``__dict__``, so lazy modules and ``__getattr__`` hooks stay untouched.
"""

from __future__ import annotations

import importlib.util
import os
import site
import sys
import sysconfig
import zipimport
from collections.abc import Iterable
from importlib.machinery import ModuleSpec
from types import ModuleType

State = tuple[int, int, int] | None


def file_state(path: str) -> State:
    """The state of ``path``, or None when it cannot be stat'ed."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):  # ValueError: a NUL byte in the path
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


#: reloadmw's own directory, with a trailing separator: its files are never the user's.
OWN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "")


#: How far before the previous scan a file's mtime still counts as "maybe edited
#: after it was imported". File timestamps come from the kernel's coarse clock,
#: a tick (1-10 ms) behind; file systems that keep whole seconds (FAT keeps two)
#: round down further.
FINE_SLACK_NS = 50_000_000
COARSE_SLACK_NS = 2_000_000_000


def module_file(module: object) -> str | None:
    """The file to watch for a module, or None; never imports, never raises.

    Reads the module's ``__dict__`` directly, so lazy modules and modules with
    a ``__getattr__`` are not triggered, and non-module objects are skipped.
    """
    try:
        if not issubclass(type(module), ModuleType):
            return None
        namespace = object.__getattribute__(module, "__dict__")
        filename = namespace.get("__file__")
        if not isinstance(filename, str) or not filename:
            return None
        loader = namespace.get("__loader__")
        if issubclass(type(loader), zipimport.zipimporter):
            # "archive.zip/pkg/mod.py" is no file: the archive is what changes.
            archive = loader.archive
            return os.path.abspath(archive) if isinstance(archive, str) else None
        filename = os.path.abspath(filename)
        if filename.endswith((".pyc", ".pyo")):
            try:
                source = importlib.util.source_from_cache(filename)
            except ValueError:  # a sourceless .pyc: watch it as it is
                return filename
            return source if os.path.exists(source) else filename
        return filename
    except Exception:
        return None


def is_importing(module: object) -> bool:
    """Whether ``module`` is still running its import (it is in sys.modules meanwhile)."""
    try:
        if not issubclass(type(module), ModuleType):
            return False
        spec = object.__getattribute__(module, "__dict__").get("__spec__")
        return issubclass(type(spec), ModuleSpec) and getattr(spec, "_initializing", False) is True
    except Exception:
        return False


def library_dirs() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(standard library dirs, site-packages dirs), each as given and resolved."""
    paths = sysconfig.get_paths()
    stdlib = {paths["stdlib"], paths["platstdlib"]}
    sites = {paths["purelib"], paths["platlib"]}
    if hasattr(site, "getsitepackages"):  # missing in some old virtualenvs
        sites.update(site.getsitepackages())
    sites.add(site.getusersitepackages())

    def spread(dirs: set[str]) -> tuple[str, ...]:
        both = {os.path.join(d, "") for d in dirs} | {
            os.path.join(os.path.realpath(d), "") for d in dirs
        }
        return tuple(sorted(both))

    return spread(stdlib), spread(sites)


def stdlib_dirs() -> tuple[str, ...]:
    """The standard library's directories, each as given and resolved."""
    return library_dirs()[0]


def is_site_path(path: str, site_dirs: tuple[str, ...]) -> bool:
    parts = path.split(os.sep)
    return "site-packages" in parts or "dist-packages" in parts or path.startswith(site_dirs)


def maybe_edited_since(state: State, since_ns: int) -> bool:
    """Whether a file's mtime may be later than the wall-clock time ``since_ns``."""
    if state is None:
        return False
    whole_seconds = state[0] % 1_000_000_000 == 0
    return state[0] >= since_ns - (COARSE_SLACK_NS if whole_seconds else FINE_SLACK_NS)


def bytecode_matches(path: str, state: State) -> bool:
    """Whether the cached bytecode of ``path`` was compiled from the source in ``state``.

    CPython's import checks the same thing: a .pyc records the source's mtime
    (whole seconds) and size, or a hash of it. A source modified after its
    .pyc was written is not what the .pyc holds, even within the same second.
    No .pyc, or one that cannot be read, is no proof.
    """
    if state is None:
        return False
    try:
        optimization = sys.flags.optimize or ""
        cached = importlib.util.cache_from_source(path, optimization=optimization)
        with open(cached, "rb") as stream:
            header = stream.read(16)
            written_ns = os.fstat(stream.fileno()).st_mtime_ns
        if state[0] > written_ns:
            return False
        if len(header) < 16 or header[:4] != importlib.util.MAGIC_NUMBER:
            return False
        if int.from_bytes(header[4:8], "little") & 1:  # hash-based .pyc (PEP 552)
            with open(path, "rb") as stream:
                return header[8:16] == importlib.util.source_hash(stream.read())
        mtime = int.from_bytes(header[8:12], "little")
        size = int.from_bytes(header[12:16], "little")
        return mtime == (state[0] // 1_000_000_000) & 0xFFFFFFFF and size == state[1] & 0xFFFFFFFF
    except Exception:
        return False


def forget_bytecode(paths: Iterable[str]) -> list[tuple[str, OSError]]:
    """Remove the cached bytecode of changed sources; return what could not be removed.

    CPython trusts a .pyc whose recorded mtime (whole seconds) and size match
    the source, so an edit in the same second that keeps the size would make
    the new process import the old code.
    """
    failures: list[tuple[str, OSError]] = []
    for path in paths:
        if not path.endswith(".py"):
            continue
        for optimization in ("", 1, 2):
            try:
                os.unlink(importlib.util.cache_from_source(path, optimization=optimization))
            except FileNotFoundError:
                pass
            except NotImplementedError:  # no bytecode cache on this implementation
                return failures
            except OSError as error:
                failures.append((path, error))
    return failures
