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
import logging
import os
import sys
import time
from collections.abc import Iterable
from time import monotonic

from .backend import Unavailable
from .inotify import open_backend
from .patterns import compile_excludes
from .sources import (
    OWN,
    State,
    bytecode_matches,
    file_state,
    is_importing,
    is_site_path,
    library_dirs,
    maybe_edited_since,
    module_file,
)
from .stat import StatBackend
from .templates import Templates

log = logging.getLogger("reloadmw")

#: A baseline that equals no state, so the next comparison reports a change.
UNKNOWN: State = (-1, -1, -1)

#: How often the whole of sys.modules is compared with what was seen, even when
#: its length is unchanged (a module removed and another imported in between).
FULL_MODULE_SCAN = 10.0


#: The ``reloadmw`` command's launcher script, the ``__main__`` of ``reloadmw files``.
OWN_LAUNCHERS = frozenset({"reloadmw", "reloadmw-script.py"})

#: Why a library module is not watched (``unwatched_because``).
LIBRARIES = ("the standard library", "site-packages")

#: Backends, as accepted by ``backend=``.
BACKENDS = ("stat", "inotify")


class Watcher:
    """The watched files, their baselines, and the check that compares them.

    :param extra_files: absolute paths or glob patterns (``**`` recursive).
        A path named explicitly is watched even while it is missing; a new
        file matching a glob is adopted without counting as a change.
    :param exclude: glob patterns matched against absolute paths; a relative
        pattern matches at any depth.
    :param include_site_packages: also watch modules from site-packages and
        dist-packages. The standard library is never watched.
    :param backend: ``"stat"`` stats every file at each check; ``"inotify"``
        (Linux) stats only the files that the kernel's events name, and every
        file every ``full_period`` seconds; it falls back to ``"stat"``, with
        one WARNING, where inotify is missing or its watch limit is reached.
    :param templates_of: the application, whose frameworks are asked where their
        templates are (``reloadmw.watch.templates``); None: no template is watched
        unless named. A change to templates alone is no change to restart for:
        ``take_templates`` makes the frameworks read them again.
    :param since_ns: when the modules imported so far began to be (wall clock): each is
        then trusted as one found by a later scan (``adopt_modules``); None: as they are.
    """

    def __init__(
        self,
        extra_files: Iterable[str] = (),
        exclude: Iterable[str] = (),
        include_site_packages: bool = False,
        backend: str = "stat",
        full_period: float = 10.0,
        templates_of: object = None,
        since_ns: int | None = None,
    ) -> None:
        self._excluded = compile_excludes(exclude)
        self._include_site = include_site_packages
        self._stdlib_dirs, self._site_dirs = library_dirs()
        self._states: dict[str, State] = {}
        self._why: dict[str, str] = {}
        self._seen_modules: set[str] = set()
        self._modules_count = -1  # len(sys.modules) at the last full scan
        self._next_module_scan = 0.0
        self._importing: dict[str, int] = {}
        self._globs: list[str] = []
        self._suspects: set[str] = set()  # paths whose baseline is unknown or missing
        self._backend = open_backend(backend, full_period)
        # Wall-clock time of the last sys.modules scan: a module found later was
        # imported after it, so an mtime past it may be an edit after the import.
        self._scanned_ns = time.time_ns() if since_ns is None else since_ns
        for entry in extra_files:
            if glob.has_magic(entry):
                self._globs.append(entry)
            elif self._wanted(entry):
                self._add(entry, file_state(entry), "extra file")
        self._templates = Templates(templates_of) if templates_of is not None else None
        self._adopt_globs()
        self.adopt_modules(late=since_ns is not None)

    def __len__(self) -> int:
        return len(self._states)

    @property
    def paths(self) -> list[str]:
        """Every watched path."""
        return list(self._states)

    @property
    def backend(self) -> str:
        """The backend in use: ``"inotify"`` or ``"stat"``."""
        return self._backend.name

    @property
    def templates_version(self) -> int:
        """The newest mtime among the watched templates (ns), for the live-reload script."""
        return self._templates.version if self._templates is not None else 0

    @property
    def polled(self) -> dict[str, int]:
        """How many watched files are on a share (``reloadmw.watch.mounts``), by its kind."""
        self._backend.group(self._states)  # (the stat backend sorts them out as it groups)
        return {kind: len(paths) for kind, paths in sorted(self._backend.polled.items())}

    def describe(self) -> str:
        """How the files are checked, for the start-up line."""
        self._backend.group(self._states)
        return self._backend.describe()

    @property
    def reasons(self) -> dict[str, str]:
        """Every watched path, and why: ``module NAME``, ``extra file`` or the pattern."""
        return dict(self._why)

    def _wanted(self, path: str) -> bool:
        return self._excluded is None or self._excluded.fullmatch(path) is None

    def unwatched_because(self, path: str) -> str | None:
        """Why a module's file is not watched (None when it is, or would be)."""
        # However installed (an editable install included), and its command's launcher.
        if path.startswith(OWN) or os.path.basename(path) in OWN_LAUNCHERS:
            return "reloadmw itself"
        if is_site_path(path, self._site_dirs):
            if not self._include_site:
                return "site-packages"
        elif path.startswith(self._stdlib_dirs):
            return "the standard library"
        return None if self._wanted(path) else "excluded"

    def libraries(self) -> list[str]:
        """The loaded modules that this watcher leaves out as the standard library's or
        site-packages' (what ``reloadmw serve``'s preload template may import)."""
        found = []
        for name, module in list(sys.modules.items()):
            path = module_file(module)
            if path is not None and self.unwatched_because(path) in LIBRARIES:
                found.append(name)
        return found

    def _add(self, path: str, state: State, why: str) -> None:
        self._states[path] = state
        self._why[path] = why
        if state is None or state == UNKNOWN:
            self._suspects.add(path)
        try:
            self._backend.watch(path)
        except Unavailable as error:
            log.warning("%s; checking with stat instead", error)
            self._backend.close()
            self._backend = StatBackend()

    def adopt_modules(self, late: bool = True) -> int:
        """Start watching the files of modules imported since the last scan.

        With ``late``, a source whose mtime is past the previous scan may have
        been edited after its import; it is trusted only when its cached
        bytecode shows that it is what was imported, otherwise the next check
        reports it. Without bytecode (``PYTHONDONTWRITEBYTECODE``), a module
        first imported after an edit can so cost one needless restart, never
        a missed one. Returns how many files were added.
        """
        if (
            len(sys.modules) == self._modules_count
            and not self._importing
            and monotonic() < self._next_module_scan
        ):
            return 0  # nothing imported since the last scan
        since = self._scanned_ns
        self._scanned_ns = time.time_ns()
        # dict.copy() runs without releasing the GIL: safe while other threads import.
        modules = sys.modules.copy()
        self._modules_count = len(modules)
        self._next_module_scan = monotonic() + FULL_MODULE_SCAN
        new_names = modules.keys() - self._seen_modules
        added = 0
        for name in new_names:
            module = modules[name]
            # At creation every module is trusted as it is, the one still importing
            # (the WSGI script that builds this middleware, usually) included.
            if late and is_importing(module):
                # Its bytecode may not be written yet: adopt it at a later scan, as
                # one that may have been edited since this scan's predecessor.
                self._importing.setdefault(name, since)
                continue
            self._seen_modules.add(name)
            since_import = min(since, self._importing.pop(name, since))
            path = module_file(module)
            if path is None or path in self._states:
                continue
            if self.unwatched_because(path) is not None:
                continue
            state = file_state(path)
            if (
                late
                and path.endswith(".py")
                and maybe_edited_since(state, since_import)
                and not bytecode_matches(path, state)
            ):
                state = UNKNOWN
            self._add(path, state, f"module {name}")
            added += 1
        self._find_templates()  # (a framework set up since the last scan)
        return added

    def _find_templates(self, scan: bool = True) -> None:
        """Watch the templates of the application's frameworks: with ``scan``, those of
        frameworks set up since (site-packages' and excluded ones aside, as for modules);
        always, Jinja's templates loaded since."""
        templates = self._templates
        if templates is None:
            return
        wanted = self.unwatched_because
        for path, framework in templates.discover(lambda p: wanted(p) is None, scan):
            if path not in self._states and (state := file_state(path)) is not None:
                self._add(path, state, f"template ({framework})")
                templates.note(path, state)

    def take_templates(self, changed: list[str]) -> bool:
        """Where only templates changed: take their new states as baselines, make their
        frameworks read them again, and say True (no restart). Else False."""
        if self._templates is None or not self._templates.covers(changed):
            return False
        for path in changed:
            state = self._states[path] = file_state(path)
            (self._suspects.add if state is None else self._suspects.discard)(path)
            self._templates.note(path, state)
        self._backend.rebaseline()
        self._templates.read_again(changed)
        return True

    def _adopt_globs(self) -> None:
        for pattern in self._globs:
            for path in glob.glob(pattern, recursive=True):
                if path in self._states or not self._wanted(path):
                    continue
                state = file_state(path)
                if state is not None and not os.path.isdir(path):
                    self._add(path, state, f"extra file ({pattern})")

    def check(self) -> list[str]:
        """Adopt new modules and glob matches, then return the paths that changed."""
        self.adopt_modules()
        if self._globs:
            self._adopt_globs()
        self._find_templates(scan=False)  # Jinja's templates as they are first loaded
        changed = self._backend.changed(self._states, self._suspects)
        # Baselines stay as they were, so a changed file is reported again at every
        # check until it is back as it was: an event comes once, the difference stays.
        self._suspects.update(changed)
        return changed

    def close(self) -> None:
        """Release what the backend holds (the inotify descriptor)."""
        self._backend.close()
