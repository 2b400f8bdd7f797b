"""Which files are watched, and whether one of them changed.

A file's state is ``(st_mtime_ns, st_size, st_ino)``, or None while it is
missing. A file has changed when its state differs from its baseline in any
way, so a restored older mtime, a replaced inode (an editor's atomic save) and
a deletion all count.

What that means at the edges (each one tested):

- A touch that changes no content is a change (as for every peer).
- A file that can no longer be stat'ed (EACCES on a directory above it, a path
  too long) counts as missing, so as a change; so do a file that became a
  directory or a dangling symlink, and a symlink whose target was swapped.
- Two edits within one second that keep the size are told apart by the
  nanosecond mtime. An edit that restores the exact mtime (to the nanosecond),
  size and inode is invisible to any stat poll, and so is a chmod alone.
- mtimes before 1970 or in the future compare like any other.
- Names that are not UTF-8 and long paths are watched like any other.

The Watcher is not thread-safe: the middleware calls it under one lock.
"""

from __future__ import annotations

import glob
import importlib.util
import operator
import os
import re
import site
import sys
import sysconfig
import time
import zipimport
from collections.abc import Iterable
from importlib.machinery import ModuleSpec
from types import ModuleType

State = tuple[int, int, int] | None

#: A baseline that equals no state, so the next comparison reports a change.
UNKNOWN: State = (-1, -1, -1)

#: How far before the previous scan a file's mtime still counts as "maybe edited
#: after it was imported". File timestamps come from the kernel's coarse clock,
#: a tick (1-10 ms) behind; file systems that keep whole seconds (FAT keeps two)
#: round down further.
FINE_SLACK_NS = 50_000_000
COARSE_SLACK_NS = 2_000_000_000

_SEPARATORS = "/\\" if os.sep == "\\" else "/"
_NOT_SEP = f"[^{re.escape(_SEPARATORS)}]"
_SEP = f"[{re.escape(_SEPARATORS)}]"


_state_of = operator.attrgetter("st_mtime_ns", "st_size", "st_ino")


def file_state(path: str) -> State:
    """The state of ``path``, or None when it cannot be stat'ed."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):  # ValueError: a NUL byte in the path
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def glob_regex(pattern: str) -> str:
    """Translate a glob to a regular expression for whole paths.

    ``*`` and ``?`` stay within one path segment, ``**`` crosses segments and
    ``**/`` also matches no directory at all; ``[...]`` is a character class.
    """
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if i < n and pattern[i] in _SEPARATORS:
                out.append(f"(?:.*{_SEP})?")
                i += 1
            else:
                out.append(".*")
            continue
        if char == "*":
            out.append(f"{_NOT_SEP}*")
        elif char == "?":
            out.append(_NOT_SEP)
        elif char == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end]
            negate = body[:1] in ("!", "^")
            body = re.escape(body[1:] if negate else body).replace(r"\-", "-")
            out.append(f"[{'^' if negate else ''}{body}]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def compile_excludes(patterns: Iterable[str]) -> re.Pattern[str] | None:
    """One regular expression for all exclusion patterns; relative ones match anywhere."""
    parts = []
    for pattern in patterns:
        if not os.path.isabs(pattern):
            pattern = "**/" + pattern
        parts.append(f"(?:{glob_regex(pattern)})")
    return re.compile("|".join(parts), re.DOTALL) if parts else None


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


def _library_dirs() -> tuple[tuple[str, ...], tuple[str, ...]]:
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
    return _library_dirs()[0]


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


class Watcher:
    """The watched files, their baselines, and the check that compares them.

    :param extra_files: absolute paths or glob patterns (``**`` recursive).
        A path named explicitly is watched even while it is missing; a new
        file matching a glob is adopted without counting as a change.
    :param exclude: glob patterns matched against absolute paths; a relative
        pattern matches at any depth.
    :param include_site_packages: also watch modules from site-packages and
        dist-packages. The standard library is never watched.
    """

    def __init__(
        self,
        extra_files: Iterable[str] = (),
        exclude: Iterable[str] = (),
        include_site_packages: bool = False,
    ) -> None:
        self._excluded = compile_excludes(exclude)
        self._include_site = include_site_packages
        self._stdlib_dirs, self._site_dirs = _library_dirs()
        self._states: dict[str, State] = {}
        self._seen_modules: set[str] = set()
        self._importing: dict[str, int] = {}
        self._globs: list[str] = []
        self._split_size = -1  # len(self._states) when the lists below were built
        self._present_paths: list[str] = []
        self._present_states: list[State] = []
        self._absent: list[str] = []
        # Wall-clock time of the last sys.modules scan: a module found later was
        # imported after it, so an mtime past it may be an edit after the import.
        self._scanned_ns = time.time_ns()
        for entry in extra_files:
            if glob.has_magic(entry):
                self._globs.append(entry)
            elif self._wanted(entry):
                self._states[entry] = file_state(entry)
        self._adopt_globs()
        self.adopt_modules(late=False)

    def __len__(self) -> int:
        return len(self._states)

    @property
    def paths(self) -> list[str]:
        """Every watched path."""
        return list(self._states)

    def _wanted(self, path: str) -> bool:
        return self._excluded is None or self._excluded.fullmatch(path) is None

    def _watches_module_file(self, path: str) -> bool:
        if is_site_path(path, self._site_dirs):
            return self._include_site
        return not path.startswith(self._stdlib_dirs)

    def adopt_modules(self, late: bool = True) -> int:
        """Start watching the files of modules imported since the last scan.

        With ``late``, a source whose mtime is past the previous scan may have
        been edited after its import; it is trusted only when its cached
        bytecode shows that it is what was imported, otherwise the next check
        reports it. Without bytecode (``PYTHONDONTWRITEBYTECODE``), a module
        first imported after an edit can so cost one needless restart, never
        a missed one. Returns how many files were added.
        """
        since = self._scanned_ns
        self._scanned_ns = time.time_ns()
        # dict.copy() runs without releasing the GIL: safe while other threads import.
        modules = sys.modules.copy()
        new_names = modules.keys() - self._seen_modules
        added = 0
        for name in new_names:
            module = modules[name]
            if is_importing(module):
                # Its bytecode may not be written yet: adopt it at a later scan, as
                # one that may have been edited since this scan's predecessor.
                self._importing.setdefault(name, since)
                continue
            self._seen_modules.add(name)
            since_import = min(since, self._importing.pop(name, since))
            path = module_file(module)
            if path is None or path in self._states:
                continue
            if not self._watches_module_file(path) or not self._wanted(path):
                continue
            state = file_state(path)
            if (
                late
                and path.endswith(".py")
                and maybe_edited_since(state, since_import)
                and not bytecode_matches(path, state)
            ):
                state = UNKNOWN
            self._states[path] = state
            added += 1
        return added

    def _adopt_globs(self) -> None:
        for pattern in self._globs:
            for path in glob.glob(pattern, recursive=True):
                if path in self._states or not self._wanted(path):
                    continue
                state = file_state(path)
                if state is not None and not os.path.isdir(path):
                    self._states[path] = state

    def _split(self) -> tuple[list[str], list[State], list[str]]:
        """(paths that existed, their states, paths that were missing), rebuilt on change."""
        if self._split_size != len(self._states):
            present = [(p, s) for p, s in self._states.items() if s is not None]
            self._present_paths = [p for p, _ in present]
            self._present_states = [s for _, s in present]
            self._absent = [p for p, s in self._states.items() if s is None]
            self._split_size = len(self._states)
        return self._present_paths, self._present_states, self._absent

    def check(self) -> list[str]:
        """Adopt new modules and glob matches, then return the paths that changed."""
        self.adopt_modules()
        if self._globs:
            self._adopt_globs()
        paths, states, absent = self._split()
        current: list[State]
        try:
            # map() and the list comparison run in C: a Python loop would cost more
            # per file than os.stat itself, so it is kept for the rare case.
            current = list(map(_state_of, map(os.stat, paths)))
        except (OSError, ValueError):  # a file went missing: that is a change
            current = [file_state(path) for path in paths]
        changed = []
        if current != states:
            changed = [p for p, old, new in zip(paths, states, current, strict=True) if new != old]
        changed.extend(path for path in absent if file_state(path) is not None)
        return changed
