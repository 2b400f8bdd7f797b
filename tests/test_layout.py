"""The floor plan: a package per question and the top, small modules, imports one way."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "reloadmw"
WINGS = ("watch", "successor", "fresh", "hooks", "live", "loading", "serve")
#: The modules at the top: the middleware and what it needs when it is built.
TOP = {
    "__init__", "__main__", "check", "cli", "collect", "converters", "middleware", "options",
    "pages", "places", "restart", "routes", "syntax",
}  # fmt: skip


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ("reloadmw", *path.relative_to(PACKAGE).with_suffix("").parts)
        found[".".join(parts).removesuffix(".__init__")] = path
    return found


def imports(name: str, path: Path) -> set[str]:
    """The reloadmw modules that ``name`` imports when it runs (not for type checking)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text())
    typing_only = {
        id(node)
        for stmt in ast.walk(tree)
        if isinstance(stmt, ast.If) and "TYPE_CHECKING" in ast.unparse(stmt.test)
        for node in ast.walk(stmt)
    }
    known = modules()
    found = set()
    for node in ast.walk(tree):
        if id(node) in typing_only or not isinstance(node, ast.ImportFrom | ast.Import):
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(filter(None, [base, node.module or ""]))
            # "from pkg import sub" imports the submodule; the package only for its names.
            targets = [
                f"{module}.{alias.name}" if f"{module}.{alias.name}" in known else module
                for alias in node.names
            ]
        # A module's own packages are initialized before it, whatever it imports.
        ancestors = {name.rsplit(".", depth)[0] for depth in range(1, name.count(".") + 1)}
        found |= {t for t in targets if t in known and t != name and t not in ancestors}
    return found


def test_the_wings_are_packages_and_every_module_is_small():
    for wing in WINGS:
        assert (PACKAGE / wing / "__init__.py").is_file()
    long = {
        name: n
        for name, path in modules().items()
        if (n := len(path.read_text().splitlines())) > 300
    }
    assert long == {}


def test_the_top_holds_the_middleware_and_the_packages_the_rest():
    assert {path.stem for path in PACKAGE.glob("*.py")} == TOP


def test_no_import_cycle():
    graph = {name: imports(name, path) for name, path in modules().items()}
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            raise AssertionError(
                "import cycle: " + " -> ".join([*trail[trail.index(name) :], name])
            )
        if name in done:
            return
        for target in sorted(graph[name]):
            visit(target, [*trail, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


def test_imports_go_one_way():
    """watch knows nothing of WSGI, hooks or serve; hooks use only watch and names."""
    for name, path in modules().items():
        targets = imports(name, path)
        if name.startswith("reloadmw.watch"):
            assert all(t.startswith("reloadmw.watch") for t in targets), (name, targets)
            assert "webob" not in path.read_text() and "environ" not in path.read_text()
        if name.startswith("reloadmw.hooks"):
            allowed = ("reloadmw.hooks", "reloadmw.watch", "reloadmw.loading.names")
            assert all(t.startswith(allowed) for t in targets), (name, targets)
        if name == "reloadmw.options":  # at the bottom: the others read it
            assert all(t.startswith(("reloadmw.watch", "reloadmw.converters")) for t in targets)
