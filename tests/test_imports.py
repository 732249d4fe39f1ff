"""The structure's rules, read from the source: no import circles among nnplay's modules and the
Streamlit glue (imports inside functions included), and no Streamlit in nnplay/."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _modules() -> dict[str, Path]:
    """Every module of nnplay/ and of the Streamlit glue (ui/), by its import name."""
    files = [*sorted((ROOT / "nnplay").rglob("*.py")), *sorted((ROOT / "ui").rglob("*.py"))]
    out = {}
    for f in files:
        name = ".".join(f.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        out[name] = f
    return out


MODULES = _modules()


def imports(path: Path) -> set[str]:
    """Every module a file imports anywhere in it (in functions too), with `from m import x`
    counted as both m and m.x."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other, directly or round a circle (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while not group or group[-1] != v:
                group.append(stack.pop())
            if len(group) > 1:
                out.append(sorted(group))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def graph_of(modules: dict[str, Path]) -> dict[str, set[str]]:
    return {name: {m for m in imports(f) if m in modules and m != name}
            for name, f in modules.items()}


def test_no_import_circles() -> None:
    assert {"ui", "ui.chart", "nnplay.spec"} <= set(MODULES)  # both packages were read
    assert cycles(graph_of(MODULES)) == []


def test_a_circle_is_found() -> None:
    """The check itself: two modules that import each other, one inside a function."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    tree = "def f():\n    from nnplay import spec\n"
    assert "nnplay.spec" in {m for node in ast.walk(ast.parse(tree))
                             if isinstance(node, ast.ImportFrom)
                             for m in (node.module, f"{node.module}.{node.names[0].name}")}


def test_the_core_never_imports_streamlit() -> None:
    for name, f in MODULES.items():
        if name.startswith("nnplay"):
            assert not {m for m in imports(f) if m.split(".")[0] in ("streamlit", "ui")}, name
