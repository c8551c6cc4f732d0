"""The package graph is the one docs/architecture.md draws: every import (at the top of a file or
inside a function) goes where its unit's row allows, and no two modules import each other, however
indirectly. Read with `ast`: nothing of upstack is imported to check it."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "upstack"


def _layers() -> dict[str, set[str] | None]:
    """unit -> the units it may import (None: any), from the table in docs/architecture.md."""
    rows: dict[str, set[str] | None] = {}
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for line in text.splitlines():
        found = re.fullmatch(r"\| `(\w+)` \|[^|]*\|([^|]*)\|", line.strip())
        if found:
            allowed = found.group(2).strip()
            rows[found.group(1)] = None if allowed == "everything" else {
                u.strip() for u in allowed.split(",") if u.strip()}
    return rows


def _modules() -> dict[str, Path]:
    found = {}
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _unit(module: str) -> str:
    parts = module.split(".")
    return "upstack" if len(parts) == 1 or parts[1] == "__main__" else parts[1]


def _type_only(tree: ast.Module) -> set[int]:
    """The import statements under ``if TYPE_CHECKING:``: names for the type checker, never run."""
    return {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
            and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING"
            for statement in block.body for node in ast.walk(statement)}


def _imports(modules: dict[str, Path], *, typing: bool = True) -> dict[str, set[str]]:
    """module -> the upstack modules it imports (a name imported from a package counts as its
    submodule when there is one); with ``typing=False``, not those only the type checker reads."""
    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        skip = set() if typing else _type_only(tree)
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                raise AssertionError(f"{module}: a relative import (write it out: from upstack...)")
            for name in names:
                target = resolve(name) if name.split(".")[0] == "upstack" else None
                if target and target != module:
                    graph[module].add(target)
    return graph


def test_every_unit_has_its_row() -> None:
    layers = _layers()
    units = {_unit(m) for m in _modules()}
    assert not units - set(layers), f"units without a row in docs/architecture.md: {sorted(units - set(layers))}"
    assert not set(layers) - units, f"rows for units that are not there: {sorted(set(layers) - units)}"
    for unit, allowed in layers.items():
        assert allowed is None or allowed <= set(layers), f"{unit} may import units that do not exist"


def test_every_import_is_one_the_layers_allow() -> None:
    layers = _layers()
    graph = _imports(_modules())
    wrong = sorted(f"{module} imports {target}" for module, targets in graph.items() for target in targets
                   if _unit(target) != _unit(module)
                   and (allowed := layers[_unit(module)]) is not None and _unit(target) not in allowed)
    assert not wrong, "imports the layers do not allow (docs/architecture.md):\n" + "\n".join(wrong)


def test_no_modules_import_each_other() -> None:
    """(A name imported only for the type checker, under ``if TYPE_CHECKING:``, is not run: a type
    may name a class of a module that imports this one.)"""
    graph = _imports(_modules(), typing=False)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's strongly connected components
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in graph[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in list(graph):
        if module not in index:
            visit(module)
    assert not cycles, "modules that import each other:\n" + "\n".join(" <-> ".join(c) for c in cycles)
