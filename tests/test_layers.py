"""The package's layers: a module imports only its own package or the layers below it, and no import cycle exists."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

PACKAGE = Path(__file__).resolve().parents[1] / "lib" / "ladder"
# Higher imports lower; packages of one rank do not import each other. cli.py builds on commands/.
RANKS = {"core": 0, "engine": 1, "app": 1, "rungs": 2, "assess": 2, "sandbox": 2, "commands": 3, "": 3, "cli": 4}


def module_name(path: Path) -> str:
    """ladder.core.hosts for lib/ladder/core/hosts.py; ladder.core for its __init__.py."""
    parts = ("ladder", *path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    """Every module of the package (the sandbox's app template is data, not Ladder's code)."""
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "template" not in p.parts}


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The Ladder modules a module imports anywhere in its body, lazy imports included."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("ladder"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")[: len(name.split(".")) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("ladder"):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in known else target)
    return {m for m in found if m in known and m != name}


def layer(name: str) -> str:
    """The layer a module belongs to: its first package under ladder, '' for ladder itself."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def graph() -> dict[str, set[str]]:
    """Module -> the Ladder modules it imports."""
    mods = modules()
    return {name: imports(name, path, set(mods)) for name, path in mods.items()}


def upward(graph: dict[str, set[str]]) -> list[str]:
    """Every import of a module in a layer at or above the importer's, other than its own package."""
    bad = []
    for name, targets in graph.items():
        for target in targets:
            mine, theirs = layer(name), layer(target)
            if target == "ladder" or (mine != theirs and RANKS[theirs] >= RANKS[mine]):
                bad.append(f"{name} imports {target}")
    return sorted(bad)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Import cycles between modules (a package importing its own modules is not one)."""
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt.startswith(node + "."):
                continue
            if state.get(nxt) == 1:
                found.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_every_module_is_in_a_known_layer():
    assert {layer(m) for m in modules()} <= set(RANKS)


def test_no_module_imports_upward_or_sideways():
    assert upward(graph()) == []


def test_there_is_no_import_cycle():
    assert cycles(graph()) == []


def test_the_rule_catches_an_upward_import_and_a_cycle():
    g = {
        "ladder.core.hosts": {"ladder.engine.record"},
        "ladder.engine.record": {"ladder.core.hosts"},
        "ladder.app.health": {"ladder.engine.journal"},
        "ladder.engine.journal": set(),
    }
    assert upward(g) == [
        "ladder.app.health imports ladder.engine.journal",
        "ladder.core.hosts imports ladder.engine.record",
    ]
    assert cycles(g) == [["ladder.core.hosts", "ladder.engine.record", "ladder.core.hosts"]]
