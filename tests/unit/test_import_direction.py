"""The import rule, checked on the source itself (docs/architecture.md, "Layers").

Packages form one line, and imports point only down it:

    domain ← data ← seed ← config ← storage ← network ← services ← web ← runtime ← cli

A module may import from its own package and from packages to its left, never to its right.
There is no exceptions list: an upward import is a design error to fix, not to record here. The
same walk also refuses import cycles between modules, in any package.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "jukinet"

#: Every top-level package (or module) of jukinet, lowest layer first.
LAYERS: tuple[str, ...] = (
    "domain",
    "data",
    "seed",
    "config",
    "storage",
    "network",
    "services",
    "web",
    "runtime",
    "cli",
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_only(tree: ast.Module) -> set[int]:
    """Ids of the import nodes under ``if TYPE_CHECKING:`` (annotations only, never run)."""
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            guarded.update(id(inner) for inner in ast.walk(node))
    return guarded


def _imports(path: Path, *, annotations: bool = True) -> Iterator[str]:
    """Every jukinet module ``path`` imports, anywhere in the file (lazy imports count too);
    without ``annotations``, imports made only for type checking are left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skipped = set() if annotations else _type_checking_only(tree)
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # ``from jukinet.x import y`` may name a submodule y: count both.
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        yield from (name for name in names if name.startswith("jukinet."))


@cache
def _graph(*, annotations: bool = True) -> dict[str, set[str]]:
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        imported = _imports(path, annotations=annotations)
        graph[name] = {target for target in imported if target in modules}
    return graph


def _layer(module: str) -> str:
    return module.split(".")[1] if module.count(".") else module


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """``importer -> imported`` for every import that points to a higher layer."""
    rank = {layer: index for index, layer in enumerate(LAYERS)}
    return sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        if module != "jukinet"
        for target in targets
        if rank[_layer(target)] > rank[_layer(module)]
    )


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def _package_of(module: str) -> str:
    """The package a module belongs to (itself for a package's ``__init__``)."""
    return module.rsplit(".", 1)[0]


def test_every_top_level_package_has_a_layer() -> None:
    found = {_layer(module) for module in _graph() if module != "jukinet"}
    assert found == set(LAYERS)


def test_imports_point_only_down_the_layers() -> None:
    assert upward_imports(_graph()) == []


def test_no_import_cycles_between_modules() -> None:
    # A package's __init__ re-exporting its own modules is not a cycle of design: leave out
    # the edges from a package to the modules inside it. Imports made only for annotations
    # (under TYPE_CHECKING) never run, so they cannot form a cycle.
    graph = {
        module: {t for t in targets if not t.startswith(f"{module}.")}
        for module, targets in _graph(annotations=False).items()
    }
    assert import_cycles(graph) == []


def test_the_composition_root_is_imported_only_from_the_top() -> None:
    importers = {
        module for module, targets in _graph().items() if "jukinet.runtime.bootstrap" in targets
    }
    assert importers
    assert {_layer(module) for module in importers} <= {"runtime", "cli"}


def test_the_checks_see_a_violation() -> None:
    # Guards against a walk that silently finds nothing.
    bad = {"jukinet.domain.x": {"jukinet.web.y"}, "jukinet.web.y": {"jukinet.domain.x"}}
    assert upward_imports(bad) == ["jukinet.domain.x -> jukinet.web.y"]
    assert import_cycles(bad) == [["jukinet.domain.x", "jukinet.web.y"]]
    assert "jukinet.network.inbox" in _graph()
    assert _package_of("jukinet.network.inbox") == "jukinet.network"
