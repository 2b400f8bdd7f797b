"""Pages the docs build generates from the code, so that they cannot drift from it.

- ``_generated/options.rst``: the configuration table, from ``reloadmw.options``.
- ``_generated/serve-flags.rst``: ``reloadmw serve``'s flags, from the same declarations.
- ``_generated/layout.dot``: the package's wings and modules as they are on disk, with the
  path of a request and of a restart through them. A module named on a path that does not
  exist fails the build.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "reloadmw"
WINGS = {
    "watch": "watch/: did a file change?",
    "successor": "successor/: who answers once a change is found?",
    "fresh": "fresh/: the new code, in a fresh interpreter",
    "hooks": "hooks/: how does this server restart?",
    "live": "live/: the page reloads itself",
    "loading": "loading/: what to serve",
    "serve": "serve/: reloadmw serve",
}

#: The path of a request, then of a restart, as (from, to, label).
REQUEST_PATH = [
    ("request", "middleware", "1 due?"),
    ("middleware", "routes", "2 due: route"),
    ("routes", "check", "3 run"),
    ("check", "watch.watcher", "4 check"),
    ("watch.watcher", "watch.stat", "5 stat"),
    ("watch.watcher", "watch.inotify", "5 or events"),
    ("check", "syntax", "6 compiles?"),
    ("routes", "restart", "7 a change: announce"),
    ("middleware", "hooks.choose", "its hook, once"),
    ("middleware", "successor.choose", "its successor, once"),
    ("routes", "live", "live reload: pages, polls"),
]
#: Who answers once a change is found, as (from, to, label).
SUCCESSOR_PATH = [
    ("successor.choose", "successor.handover", "reloadmw serve"),
    ("successor.choose", "successor.replay", "mod_wsgi"),
    ("successor.choose", "successor.fresh", "gunicorn, uWSGI"),
    ("successor.choose", "successor.retry", "on_change=retry"),
    ("successor.fresh", "fresh.answer", "the held request"),
    ("fresh.answer", "fresh.shared", "one per edit"),
    ("fresh.shared", "fresh.child", "imports, then answers"),
]
RESTART_PATH = [
    ("hooks.choose", "hooks.mod_wsgi", "mod_wsgi"),
    ("hooks.choose", "hooks.gunicorn", "gunicorn"),
    ("hooks.choose", "hooks.uwsgi", "uWSGI"),
    ("hooks.choose", "hooks.apache_windows", "Apache, Windows"),
    ("hooks.choose", "serve.process", "reloadmw serve: HandOver"),
    ("serve.process", "serve.protocol", "Restart"),
    ("serve.protocol", "serve.supervisor", ""),
    ("serve.supervisor", "serve.platform", "start the next process"),
    ("serve.platform", "new process", "sockets"),
    ("serve.supervisor", "serve.preload", "or, on Linux"),
    ("serve.preload", "serve.template", "Spawn: fork"),
    ("serve.template", "new process", ""),
]


def modules() -> dict[str, list[str]]:
    """Module names by wing ("" for the top), from the files on disk."""
    found: dict[str, list[str]] = {"": []}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        wing = parts[0] if len(parts) > 1 else ""
        if parts[-1] == "__init__" and wing and "\ndef " in path.read_text():
            parts = parts[:-1]  # a package whose code is its own (live)
        elif parts[-1] in ("__init__", "__main__"):
            continue
        found.setdefault(wing, []).append(".".join(parts))
    return found


def layout() -> str:
    found = modules()
    known = {name for names in found.values() for name in names}
    lines = [
        "digraph reloadmw {",
        '  rankdir=LR; newrank=true; fontname="sans-serif"; fontsize=16;',
        '  node [shape=box, style="rounded", fontname="sans-serif", fontsize=14];',
        '  edge [fontname="sans-serif", fontsize=13];',
        '  request [shape=plaintext, fontsize=16]; "new process" [shape=plaintext, fontsize=16];',
    ]
    for wing, names in found.items():
        title = WINGS.get(wing, "reloadmw/: the request path on top")
        lines.append(f'  subgraph "cluster_{wing or "top"}" {{ label="{title}"; style=dashed;')
        lines += [f'    "{name}";' for name in names]
        lines.append("  }")
    paths = ((REQUEST_PATH, "#1f5fbf"), (SUCCESSOR_PATH, "#1e7b34"), (RESTART_PATH, "#b3261e"))
    for path, color in paths:
        for start, end, label in path:
            for name in (start, end):
                if name not in known and name not in ("request", "new process"):
                    raise RuntimeError(f"the docs' diagram names {name!r}, which is no module")
            lines.append(
                f'  "{start}" -> "{end}" [color="{color}", fontcolor="{color}", label="{label}"];'
            )
    lines.append("}")
    return "\n".join(lines) + "\n"


def options_table() -> str:
    from reloadmw.options import Options, declarations

    rows = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 18 14 12 56",
        "",
        "   * - option",
        "     - type",
        "     - default",
        "     - meaning",
    ]
    for each, declaration in declarations(Options):
        default = each.default if each.default != () else "none"
        meaning = declaration.doc
        if declaration.example:
            meaning += f" Ini: ``{declaration.example}``."
        if declaration.flag:
            meaning += f" ``reloadmw serve``: ``{declaration.flag}``"
            if declaration.serve_default is not None:
                meaning += f", default ``{declaration.serve_default!r}``"
            meaning += "."
        rows += [
            f"   * - ``{each.name}``",
            f"     - {declaration.kind}",
            f"     - ``{default!r}``" if default != "none" else "     - none",
            f"     - {meaning}",
        ]
    return "\n".join(rows) + "\n"


def serve_flags() -> str:
    from reloadmw.options import Options, ServeSettings, declarations

    rows = []
    for cls in (ServeSettings, Options):
        for each, declaration in declarations(cls):
            if declaration.flag is None:
                continue
            if isinstance(each.default, bool) or declaration.kind.startswith("bool"):
                flag = f"``{declaration.flag}`` / ``--no-{declaration.flag[2:]}``"
            else:
                flag = f"``{declaration.flag}``"
            repeat = " (repeatable)" if isinstance(each.default, tuple) else ""
            default = declaration.serve_default
            default = each.default if default is None else default
            shown = "" if default == () else f" Default: ``{default}``."
            rows.append(f"* {flag}{repeat}: {declaration.doc}{shown}")
    return "\n".join(rows) + "\n"


def generate(app: Sphinx) -> None:
    out = Path(app.srcdir) / "_generated"
    out.mkdir(exist_ok=True)
    for name, text in (
        ("layout.dot", layout()),
        ("options.rst", options_table()),
        ("serve-flags.rst", serve_flags()),
    ):
        path = out / name
        if not path.exists() or path.read_text() != text:  # unchanged files rebuild nothing
            path.write_text(text)


def setup(app: Sphinx) -> dict[str, bool]:
    app.connect("builder-inited", generate)
    return {"parallel_read_safe": True}
