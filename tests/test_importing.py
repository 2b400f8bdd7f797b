"""``import reloadmw`` loads what the middleware needs when it is built, and no more."""

from __future__ import annotations

import subprocess
import sys

#: The modules that building a ReloadMiddleware needs (its check and watcher, its
#: options); the hooks, successors, pages (WebOb), live reload and serve come later.
MOST = 24


def loaded(code: str) -> list[str]:
    shown = "print(*sorted(m for m in sys.modules if m.startswith(('reloadmw', 'webob'))))"
    result = subprocess.run([sys.executable, "-c", f"import sys\n{code}\n{shown}"],
                            capture_output=True, text=True, check=True)  # fmt: skip
    return result.stdout.split()


def test_import_reloadmw_loads_no_server_no_webob_and_few_modules():
    modules = loaded("import reloadmw")
    assert [m for m in modules if m.startswith(("reloadmw.serve", "webob"))] == []
    assert len(modules) <= MOST, modules


def test_the_public_names_are_there_when_used():
    modules = loaded("import reloadmw\nreloadmw.hooks.Gunicorn, reloadmw.filter_factory")
    assert {"reloadmw.hooks.gunicorn", "reloadmw.loading.paste"} <= set(modules)
