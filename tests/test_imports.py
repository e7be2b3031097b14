"""The architecture, read from the code with ast (nothing is imported): explorer/ in folders by concern whose imports
run one way, each folder's `__init__` docstring saying which folders it may import ("Imports from explorer: …"), the
diffusion mathematics free of drawing and UI libraries, Streamlit only in ui/, no import cycle, short modules and
thin pages."""
import ast
import importlib.metadata
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXPLORER = ROOT / "explorer"
MAX_MODULE_LINES, MAX_PAGE_LINES = 300, 200


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def sources() -> dict[str, Path]:
    files = [*EXPLORER.rglob("*.py"), *ROOT.joinpath("pages").glob("*.py")]
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
            for a in node.names:  # `from explorer.ui import state` imports the module explorer.ui.state
                out.add(f"{base}.{a.name}" if f"{base}.{a.name}" in known else base)
    return out


def graph() -> dict[str, set[str]]:
    known = set(sources())
    return {name: {m for m in imports_of(name, path, known) if m in known and m != name}
            for name, path in sources().items()}


def folders() -> dict[str, Path]:
    """Every folder of explorer/ as a dotted name relative to the package ("diffusion", "ui", "ui.views")."""
    return {".".join(p.parent.relative_to(EXPLORER).parts): p for p in EXPLORER.rglob("__init__.py")
            if p.parent != EXPLORER}


def folder_of(module: str) -> str | None:
    """The innermost folder a module of explorer/ lives in; None for the package root and app.py; "pages"."""
    if module.startswith("pages."):
        return "pages"
    parts = module.split(".")[1:]
    known = folders()
    for k in range(len(parts), 0, -1):
        if ".".join(parts[:k]) in known:
            return ".".join(parts[:k])
    return None


def allowed(folder: str) -> set[str]:
    """The folders a folder's `__init__` docstring says it may import."""
    doc = ast.get_docstring(ast.parse(folders()[folder].read_text())) or ""
    said = re.search(r"Imports from explorer: (.*?)\.\s*$", doc, re.S)
    assert said, f"explorer/{folder.replace('.', '/')}/__init__.py: its docstring does not say what it may import"
    return set() if said[1].strip() == "nothing" else {f.strip() for f in said[1].split(",")}


def folder_edges() -> dict[str, set[str]]:
    edges = {}
    for a, targets in graph().items():
        fa = folder_of(a)
        if fa is None:
            continue
        edges.setdefault(fa, set()).update(fb for b in targets if (fb := folder_of(b)) not in (None, fa))
    return edges


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
    assert "explorer.diffusion.schedules" in g["explorer.diffusion.samplers"]  # from .schedules import …
    assert "explorer.ui.views.runs" in g["pages.reverse"]  # from explorer.ui.views import cloud_figures as cf, runs
    assert "explorer.ui.settings" in g["pages.overview"]  # imported inside the teaser block
    assert folder_of("explorer.ui.views.runs") == "ui.views" and folder_of("explorer.ui.layout") == "ui"
    assert folder_of("explorer.app") is None and folder_of("pages.flows") == "pages"


def test_explorer_is_folders_by_concern():
    own = sorted(p.name for p in EXPLORER.glob("*.py"))
    assert len(own) <= 3 and {"__init__.py", "app.py"} <= set(own), own
    top = {f for f in folders() if "." not in f}
    assert len(top) >= 4, top
    for folder in folders():
        allowed(folder)  # each says what it may import


def test_no_import_cycle_among_modules():
    cycle = find_cycle(graph())
    assert cycle is None, " → ".join(cycle)


def test_folders_import_one_way_and_only_what_they_declare():
    edges = folder_edges()
    cycle = find_cycle(edges)
    assert cycle is None, "folders import each other: " + " → ".join(cycle)
    for folder, targets in edges.items():
        if folder == "pages":
            continue
        extra = targets - allowed(folder)
        culprits = sorted(f"{a} → {b}" for a, bs in graph().items() if folder_of(a) == folder
                          for b in bs if folder_of(b) in extra)
        assert not extra, f"{folder} imports {sorted(extra)}, which its __init__ does not allow: {culprits}"


def test_the_folder_rule_catches_a_backward_import():
    """The rule above fails on an import running back up (the check, not the tree, under test)."""
    assert "ui" not in allowed("diffusion") and "draw" not in allowed("diffusion")
    assert find_cycle({"diffusion": {"ui"}, "ui": {"diffusion"}}) == ["diffusion", "ui", "diffusion"]


def test_no_folder_imports_the_package_root():
    """The root's public names load every folder; a folder importing them would run back up."""
    offenders = sorted(a for a, bs in graph().items() if folder_of(a) not in (None, "pages") and "explorer" in bs)
    assert not offenders, offenders


def third_party(path: Path) -> set[str]:
    return {m.split(".")[0] for m in imports_of("x.y", path, set())}


@pytest.mark.parametrize("name", [n for n in sources() if folder_of(n) == "diffusion"])
def test_the_diffusion_math_imports_no_ui_or_drawing(name):
    bad = third_party(sources()[name]) & {"streamlit", "plotly", "matplotlib", "PIL", "pandas"}
    bad |= {m for m in graph()[name] if folder_of(m) not in ("diffusion", "common")}
    assert not bad, bad


def reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt), todo.append(nxt)
    return seen


@pytest.mark.parametrize("name", [n for n in sources() if n.startswith("explorer.")
                                  and not (folder_of(n) or "").startswith("ui") and n != "explorer.app"]
                         + ["explorer.ui.settings"])
def test_streamlit_only_in_ui(name):
    """The core and the settings objects import no streamlit, not directly nor through any module of ours."""
    offenders = [m for m in reachable(graph(), name) if "streamlit" in third_party(sources()[m])]
    assert not offenders, offenders


def test_modules_stay_short_and_pages_thin():
    lines = {n: len(p.read_text().splitlines()) for n, p in sources().items()}
    long = {n: k for n, k in lines.items() if n.startswith("explorer") and k > MAX_MODULE_LINES}
    fat = {n: k for n, k in lines.items() if n.startswith("pages.") and k > MAX_PAGE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"
    assert not fat, f"pages over {MAX_PAGE_LINES} lines: {fat}"


def test_no_name_in_explorer_shadows_another_module():
    """`streamlit run explorer/app.py` puts explorer/ first on sys.path: a folder or module there named like a
    standard-library or installed module would hide it."""
    installed = set(importlib.metadata.packages_distributions())
    names = {p.stem for p in EXPLORER.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    clash = names & (set(sys.stdlib_module_names) | installed)
    assert not clash, clash
