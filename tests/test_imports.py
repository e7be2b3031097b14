"""The import graph of explorer/ and pages/, read with ast (nothing is imported): no cycles, and the
layering rules of DESIGN.md: the core never imports streamlit, settings never imports streamlit."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def sources() -> dict[str, Path]:
    files = [*ROOT.joinpath("explorer").rglob("*.py"), *ROOT.joinpath("pages").glob("*.py")]
    return {module_name(p): p for p in files}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Every module a file imports, at the top or inside a function, resolved to dotted names."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for a in node.names:  # `from explorer.ui import runs` imports the module explorer.ui.runs
                out.add(f"{base}.{a.name}" if f"{base}.{a.name}" in known else base)
    return out


def graph() -> dict[str, set[str]]:
    known = set(sources())
    return {name: {m for m in imports_of(name, path, known) if m in known and m != name}
            for name, path in sources().items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A cycle [a, b, …, a] in a directed graph, or None (depth-first search, three colours)."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set(), "d": {"a", "c"}}) is None


def test_the_graph_sees_relative_lazy_and_from_package_imports():
    g = graph()
    assert "explorer.schedules" in g["explorer.samplers"]  # from .schedules import …
    assert "explorer.ui.runs" in g["pages.reverse"]  # from explorer.ui import controls, layout, runs, …
    assert "explorer.ui.settings" in g["pages.overview"]  # imported inside the teaser block


def test_no_import_cycle_in_explorer_or_pages():
    cycle = find_cycle(graph())
    assert cycle is None, " → ".join(cycle)


def uses_streamlit(path: Path) -> bool:
    return any(m == "streamlit" or m.startswith("streamlit.") for m in imports_of("x.y", path, set()))


def reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt), todo.append(nxt)
    return seen


@pytest.mark.parametrize("name", [n for n in sources() if n.startswith("explorer.") and ".ui." not in n
                                  and n not in ("explorer.app", "explorer.ui")] + ["explorer.ui.settings"])
def test_core_and_settings_import_no_streamlit(name):
    """Not directly, nor through any module of ours they import."""
    offenders = [m for m in reachable(graph(), name) if uses_streamlit(sources()[m])]
    assert not offenders, offenders


def test_ui_modules_stay_small():
    sizes = {n: len(p.read_text().splitlines()) for n, p in sources().items() if n.startswith("explorer.ui.")}
    assert max(sizes.values()) <= 250, sizes
