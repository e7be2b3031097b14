"""Lessons as data: reading and checking the files in lessons/ (the format is lessons/README.md).

A lesson is a TOML file: a title, the question it answers, and 4–8 steps. A step has a text
(Markdown with LaTeX), a live view (a name the Lessons page knows, with the settings of the full
page it comes from, as in that page's URL), an optional prediction asked before the reveal (a
choice, or a number settled by a measurement), and the reveal: a text whose {value} is a quantity
the view measures. Nothing here draws or computes; the page supplies the views it can show, and
load_lessons checks every file against them so a mistake names its file and field instead of
breaking a class.
"""
from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

LESSONS_DIR = Path(__file__).resolve().parents[1] / "lessons"
MIN_STEPS, MAX_STEPS = 4, 8
SETTING_TYPES = (str, int, float, bool)


class LessonError(ValueError):
    """A lesson file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class View:
    """What a step may show: the full page it comes from, the settings it takes (URL keys of that page)
    and the quantities it measures (names a reveal may use)."""

    page: str
    settings: frozenset[str]
    measures: frozenset[str]


@dataclass(frozen=True)
class Predict:
    """A question answered before the reveal: a choice (choices, answer = the right index) or a number
    (settled by the reveal's measurement, right within a relative tolerance)."""

    question: str
    choices: tuple[str, ...] = ()
    answer: int | None = None
    tolerance: float | None = None

    @property
    def is_number(self) -> bool:
        return not self.choices


@dataclass(frozen=True)
class Step:
    title: str
    text: str
    view: str
    settings: tuple[tuple[str, str | int | float | bool], ...]  # sorted (key, value) pairs: hashable
    reveal: str  # text with {value} (a format spec allowed: {value:.3f})
    measure: str  # the view's quantity that {value} is
    predict: Predict | None = None

    def query(self) -> dict[str, str]:
        """The settings as URL query parameters of the full page."""
        return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in self.settings}


@dataclass(frozen=True)
class Lesson:
    name: str  # the file name without .toml: ordering and identity
    title: str
    question: str
    steps: tuple[Step, ...]


def _field(where: str, table: Mapping, key: str, kind, required: bool = True):
    if key not in table:
        if required:
            raise LessonError(f"{where}: the field '{key}' is missing.")
        return None
    value = table[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind in (int, float, (int, float)):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise LessonError(f"{where}: the field '{key}' must be {names}; got {value!r}.")
    if isinstance(value, str) and not value.strip():
        raise LessonError(f"{where}: the field '{key}' is empty.")
    return value


def _only(where: str, table: Mapping, allowed: set[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise LessonError(f"{where}: unknown field{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                          f"the fields are {', '.join(sorted(allowed))}.")


def _check_reveal_text(where: str, text: str) -> None:
    """Only {value} (with a format spec, e.g. {value:.3f}) may be filled in; it must appear."""
    names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    if "value" not in names or any(n != "value" for n in names):
        raise LessonError(f"{where}: the field 'reveal' must contain {{value}} and no other {{…}} field; "
                          f"got {', '.join('{' + n + '}' for n in names) or 'none'}.")
    try:
        text.format(value=1.2345)
    except (ValueError, TypeError) as err:
        raise LessonError(f"{where}: the field 'reveal' has a bad format spec: {err}.") from err


def _predict(where: str, table) -> Predict:
    if not isinstance(table, dict):
        raise LessonError(f"{where}: 'predict' must be a table ([steps.predict]).")
    _only(where, table, {"question", "choices", "answer", "tolerance"})
    question = _field(where, table, "question", str)
    if "choices" in table:
        choices = _field(where, table, "choices", list)
        if len(choices) < 2 or not all(isinstance(c, str) and c.strip() for c in choices):
            raise LessonError(f"{where}: 'choices' must list at least two non-empty texts.")
        answer = _field(where, table, "answer", int)
        if not 0 <= answer < len(choices):
            raise LessonError(f"{where}: 'answer' is the index of the right choice, 0 to {len(choices) - 1}; "
                              f"got {answer}.")
        if "tolerance" in table:
            raise LessonError(f"{where}: 'tolerance' is for a number prediction, not with 'choices'.")
        return Predict(question, tuple(choices), answer)
    if "answer" in table:
        raise LessonError(f"{where}: a number prediction is settled by the measurement; remove 'answer' "
                          "(or give 'choices').")
    tolerance = _field(where, table, "tolerance", (int, float))
    if not 0 < tolerance <= 1:
        raise LessonError(f"{where}: 'tolerance' is relative, in (0, 1]; got {tolerance}.")
    return Predict(question, tolerance=float(tolerance))


def _step(where: str, table, views: Mapping[str, View]) -> Step:
    if not isinstance(table, dict):
        raise LessonError(f"{where}: a step must be a table ([[steps]]).")
    _only(where, table, {"title", "text", "view", "settings", "predict", "reveal", "measure"})
    view_name = _field(where, table, "view", str)
    if view_name not in views:
        raise LessonError(f"{where}: unknown view {view_name!r}; the views are {', '.join(sorted(views))}.")
    view = views[view_name]
    settings = _field(where, table, "settings", dict, required=False) or {}
    for key, value in settings.items():
        if key not in view.settings:
            raise LessonError(f"{where}: the view {view_name!r} has no setting {key!r}; its settings are "
                              f"{', '.join(sorted(view.settings))}.")
        if not isinstance(value, SETTING_TYPES):
            raise LessonError(f"{where}: the setting {key!r} must be a text, a number or true/false; got {value!r}.")
    measure = _field(where, table, "measure", str)
    if measure not in view.measures:
        raise LessonError(f"{where}: the view {view_name!r} does not measure {measure!r}; it measures "
                          f"{', '.join(sorted(view.measures))}.")
    reveal = _field(where, table, "reveal", str)
    _check_reveal_text(where, reveal)
    predict = _predict(where + ", predict", table["predict"]) if "predict" in table else None
    return Step(_field(where, table, "title", str), _field(where, table, "text", str), view_name,
                tuple(sorted(settings.items())), reveal, measure, predict)


def load_lesson(path: Path, views: Mapping[str, View]) -> Lesson:
    """Read and check one lesson file; LessonError names the file and the field at fault."""
    where = path.name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise LessonError(f"{where}: not valid TOML: {err}.") from err
    _only(where, data, {"title", "question", "steps"})
    steps = _field(where, data, "steps", list)
    if not MIN_STEPS <= len(steps) <= MAX_STEPS:
        raise LessonError(f"{where}: a lesson has {MIN_STEPS} to {MAX_STEPS} steps; this one has {len(steps)}.")
    return Lesson(path.stem, _field(where, data, "title", str), _field(where, data, "question", str),
                  tuple(_step(f"{where}, step {i}", s, views) for i, s in enumerate(steps, start=1)))


def load_lessons(views: Mapping[str, View], folder: Path = LESSONS_DIR) -> tuple[list[Lesson], list[str]]:
    """Every lesson in folder, in file-name order, and a message for each file that could not be used
    (the others still load: one bad file does not take the lessons page down)."""
    lessons, problems = [], []
    for path in sorted(folder.glob("*.toml")):
        try:
            lessons.append(load_lesson(path, views))
        except LessonError as err:
            problems.append(str(err))
    return lessons, problems
