"""The layers of docs/architecture.md, checked on the source:

- nothing under desktop/core imports Qt;
- nothing outside desktop/ui/window imports it (features never reach the window);
- desktop/ has no import cycles, counting imports inside functions and under TYPE_CHECKING
  (a cycle hidden there is still two modules that must know each other).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "desktop"
CORE = PACKAGE / "core"
WINDOW = "desktop.ui.window"
COMPOSITION_ROOTS = {"desktop.app", "desktop.compose", "desktop.selftest"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """The desktop modules `path` imports anywhere in it (`from a import b` counts a.b, not a,
    when b is a module)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                out.add(sub if sub in known else node.module)
    return {m for m in out if m in known}


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    known = set(paths)
    graph = {}
    for name, path in paths.items():
        edges = imported_modules(path, known)
        # Importing a.b.c runs a/__init__ and a.b/__init__ first, but those are not edges of
        # the module's own design; only the module itself is.
        graph[name] = {m for m in edges if m != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path [a, b, …, a], or None."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(graph, WHITE)
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = GREY
        stack.append(node)
        for nxt in sorted(graph[node]):
            if colour[nxt] == GREY:
                return [*stack[stack.index(nxt) :], nxt]
            if colour[nxt] == WHITE and (found := visit(nxt)):
                return found
        stack.pop()
        colour[node] = BLACK
        return None

    for node in sorted(graph):
        if colour[node] == WHITE and (found := visit(node)):
            return found
    return None


def test_no_module_under_core_imports_qt():
    offenders = []
    for path in CORE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n.split(".")[0] in ("PySide6", "shiboken6", "PyQt5", "PyQt6") for n in names):
                offenders.append(str(path.relative_to(CORE)))
    assert offenders == [], offenders


def test_no_feature_imports_the_window():
    graph = import_graph()
    offenders = sorted(
        f"{name} imports {target}"
        for name, targets in graph.items()
        if not name.startswith(WINDOW) and name not in COMPOSITION_ROOTS
        for target in targets
        if target.startswith(WINDOW)
    )
    assert offenders == []


def test_desktop_has_no_import_cycles():
    assert find_cycle(import_graph()) is None


def test_the_cycle_finder_finds_a_cycle_hidden_in_a_function():
    """The checker itself: a → b at module level and b → a inside a function is a cycle."""
    assert find_cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
