"""No circular imports inside lambda_constructs, read from the source (AST), not from what happened to load.

Every ``import`` / ``from ... import`` statement of every module counts, wherever it is: at module
level, inside a function (a lazy import), under ``if TYPE_CHECKING:``. A lazy or type-only import
still ties the two modules together (one cannot be understood, moved or tested without the other),
so it is a cycle too. What does not count: an import by string (``importlib.import_module`` in the
package's lazy ``__getattr__``), and the implicit import of a parent package (``import a.b.c`` loads
``a`` and ``a.b`` first; a package re-exporting its children is not a cycle of its own). An
``from a.b import c`` points at the module ``a.b.c`` when there is one, else at ``a.b``.
``cli/starter`` is a template service (it imports the library as a user does) and is left out.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import lambda_constructs

ROOT = Path(lambda_constructs.__file__).parent
PACKAGE = "lambda_constructs"
EXCLUDED = ("lambda_constructs.cli.starter",)


def module_files(root: Path = ROOT, package: str = PACKAGE) -> dict[str, Path]:
    """Module name -> file, for every module of the package (a package is its ``__init__``)."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        name = ".".join(parts)
        if not name.startswith(EXCLUDED):
            found[name] = path
    return found


def import_edges(modules: dict[str, Path]) -> dict[str, dict[str, int]]:
    """module -> {imported module inside the package: first line}, from every import statement."""
    edges: dict[str, dict[str, int]] = {name: {} for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = name.split(".") if is_package else name.split(".")[:-1]
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names
                ]
            for target in targets:
                while target and target not in modules and "." in target:
                    target = target.rsplit(".", 1)[0]  # `import a.b.c` of an attribute: its module
                if target in modules and target != name:
                    edges[name].setdefault(target, node.lineno)
    return edges


def cycles(edges: dict[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(found)


def test_the_cycle_finder_finds_cycles(tmp_path: Path) -> None:
    """The detector itself, on a small package: a lazy import and a TYPE_CHECKING import each close a cycle."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg import b\n")
    (pkg / "b.py").write_text("def f():\n    from .a import thing\n")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.sub.d\n")
    (pkg / "sub" / "d.py").write_text("from ..c import x\nfrom . import e\n")
    (pkg / "sub" / "e.py").write_text("import os\n")
    modules = module_files(pkg, "pkg")
    edges = import_edges(modules)
    assert edges["pkg.a"] == {"pkg.b": 1}
    assert edges["pkg.sub.d"] == {"pkg.c": 1, "pkg.sub.e": 2}
    assert cycles(edges) == [["pkg.a", "pkg.b"], ["pkg.c", "pkg.sub.d"]]


def test_no_circular_imports_inside_the_package() -> None:
    modules = module_files()
    edges = import_edges(modules)
    assert len(modules) > 30 and edges["lambda_constructs.function.fleet"]  # the graph was read
    found = cycles(edges)
    described = [
        " / ".join(
            f"{a} -> {b} ({modules[a].relative_to(ROOT.parent)}:{edges[a][b]})"
            for a in component
            for b in component
            if b in edges[a]
        )
        for component in found
    ]
    assert described == []
