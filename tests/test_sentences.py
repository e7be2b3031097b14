"""No measured number typed by hand. A number with a unit (s, ms, %, ×) in a lesson, or in the fixed text of a page
or of the app's views, is either computed where it is shown (a placeholder in a lesson, a formatted value in a page),
a prediction's own cut (one of its bounds), or a quotation of the source text between “ ”. Anything else is a
measurement typed once and left to go stale (reflow's training time was quoted four ways), and fails here.

The views' measures that fill lessons' placeholders are checked by tests/test_lessons.py and test_lesson_views.py;
README.md's figures are checked by tests/test_layout.py (none typed) and test_bench_tables.py (from bench/results).
"""
import ast
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# a number and a unit: "12 s", "6 ms", "50 %", "1.5×"; not "8 × 8" (a size), not "3 steps", not "T = 5"
MEASURED = re.compile(r"(?<![\w.,^{])(\d[\d,]*(?:\.\d+)?)\s?(ms|s|%|×)(?![\w²³])(?!\s?\d)")
QUOTED = re.compile(r"“[^”]*”")


def numbers_with_units(text: str) -> list[str]:
    """Each number with a unit in text, outside quotations of the source text."""
    return [m.group(0) for m in MEASURED.finditer(QUOTED.sub("", text))]


def test_the_pattern_finds_measured_numbers_and_nothing_else():
    assert numbers_with_units("Reflow took about 15 s; each step 6 ms; 0.1% left; 1.443× slower; 30 × as far") == \
        ["15 s", "6 ms", "0.1%", "1.443×", "30 ×"]
    assert numbers_with_units("8 × 8 digits, 3 steps, T = 5, α = 1e-5, x_{10}, the text's “50% noise”, 2^10") == []


# --- lessons ---------------------------------------------------------------------------------------------------
def _bound_words(bounds) -> set[str]:
    """How a cut may be written in a question or a choice: 1.5 → 1.5×, 1.5 ×; 0.01 → 1 %, 1%."""
    out = set()
    for b in bounds:
        for shown in {f"{b:g}", f"{b * 100:g}"}:
            out |= {f"{shown}{sep}{unit}" for sep in ("", " ") for unit in ("×", "%", "s")}
    return out


def lesson_texts() -> list[tuple[str, str, set[str]]]:
    """(where, text, the numbers with units it may hold) for every text of every lesson file and preset."""
    out = []
    for path in sorted((ROOT / "lessons").glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        out += [(f"{path.name}: title", data.get("title", ""), set()), (f"{path.name}: question", data.get("question", ""), set())]
        for i, step in enumerate(data.get("steps", []) + data.get("presets", []), start=1):
            where = f"{path.name}, {'step' if 'steps' in data else 'preset'} {i}"
            for field in ("title", "text", "reveal", "notice", "why"):
                out.append((f"{where}: {field}", step.get(field, ""), set()))
            predict = step.get("predict", {})
            cuts = _bound_words(predict.get("bounds", [])) | _bound_words([predict["tolerance"]] if "tolerance" in predict else [])
            out += [(f"{where}: predict", t, cuts) for t in [predict.get("question", ""), *predict.get("choices", [])]]
    return out


def test_no_lesson_types_a_measured_number():
    typed = [f"{where}: {n!r}" for where, text, allowed in lesson_texts() for n in numbers_with_units(text)
             if n not in allowed]
    assert not typed, "name it as a placeholder filled from the view ({reflow_seconds:.0f}):\n" + "\n".join(typed)


def test_a_prediction_may_state_only_its_own_cut():
    """The exception above is narrow: "within 2×" is allowed only in a question whose bound is 2."""
    assert "1.5×" in _bound_words([1.5]) and "1 %" in _bound_words([0.01]) and "2×" not in _bound_words([1.5])


# --- pages and views -------------------------------------------------------------------------------------------
def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                ids.add(id(first.value))
    return ids


def shown_strings(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string constant a page or view may show: f-strings' fixed parts included; docstrings
    and style sheets (CSS: braces and semicolons) left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
            and not ("{" in node.value and ";" in node.value)]


SHOWN = sorted([*(ROOT / "pages").glob("*.py"), *(ROOT / "explorer" / "ui").rglob("*.py"), ROOT / "explorer" / "app.py"])


@pytest.mark.parametrize("path", SHOWN, ids=[str(p.relative_to(ROOT)) for p in SHOWN])
def test_no_page_types_a_measured_number(path):
    typed = [f"{path.relative_to(ROOT)}:{line}: {n!r} in {text[:80]!r}" for line, text in shown_strings(path)
             for n in numbers_with_units(text)]
    assert not typed, "compute it where it is shown (an f-string of the value):\n" + "\n".join(typed)
