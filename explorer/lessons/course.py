"""Lessons as data: reading and checking the files in lessons/ (the format is lessons/README.md).

A lesson is a TOML file: a title, the question it answers, and 4–8 steps. A step has a text
(Markdown with LaTeX), a live view (a name the Lessons page knows, with the settings of the full
page it comes from, as in that page's URL), an optional prediction asked before the reveal (a
choice, or a number settled by a measurement), and the reveal: a text whose {value} is a quantity
the view measures. A step's text and reveal name measured values only as placeholders ({reflow_seconds:.0f},
any quantity the view measures), filled at render time from the same computation the view shows, so a
lesson never types a measured number. Nothing here draws or computes; the page supplies the views it can show, and
load_lessons checks every file against them so a mistake names its file and field instead of
breaking a class.
"""
from __future__ import annotations

import bisect
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

LESSONS_DIR = Path(__file__).resolve().parents[2] / "lessons"
GALLERY_FILE = "break_it.toml"  # the Break-it gallery, in the same folder; every other *.toml is a lesson
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
    # check(settings, measure) raises ValueError when the values cannot be shown (a T out of range, a β
    # the full page does not offer, a measure these settings do not have)
    check: Callable[[dict, str], None] | None = None


@dataclass(frozen=True)
class Predict:
    """A question answered before the reveal, always settled by the step's measurement: a choice (the
    bounds cut the number line into one interval per choice, in order: choice i is right when
    bounds[i-1] <= value < bounds[i]) or a number (right within a relative tolerance)."""

    question: str
    choices: tuple[str, ...] = ()
    bounds: tuple[float, ...] = ()
    tolerance: float | None = None

    @property
    def is_number(self) -> bool:
        return not self.choices

    def right_choice(self, value: float) -> int:
        """The index of the choice the measured value makes right."""
        return bisect.bisect_right(self.bounds, value)

    def is_right(self, guess, value: float) -> bool:
        """A choice index, or a number within the relative tolerance of the measured value."""
        if self.is_number:
            return abs(float(guess) - value) <= self.tolerance * abs(value)
        return guess == self.right_choice(value)

    def answer_text(self, guess) -> str:
        """What a class's store keeps of an answer: the choice's text, or the number as typed (shortest form)."""
        return f"{float(guess):g}" if self.is_number else self.choices[guess]


@dataclass(frozen=True)
class Step:
    title: str
    text: str
    view: str
    settings: tuple[tuple[str, str | int | float | bool], ...]  # sorted (key, value) pairs: hashable
    reveal: str  # text with {value} (a format spec allowed: {value:.3f}) and other measures' placeholders
    measure: str  # the view's quantity that {value} is
    predict: Predict | None = None

    def shown_text(self, measures: Mapping[str, float]) -> str:
        """The text with the view's measured values filled in."""
        return fill(self.text, measures)

    def revealed(self, measures: Mapping[str, float]) -> str:
        """The reveal with the measured value (and any other measured quantity it names) filled in."""
        return fill(self.reveal, measures, measures[self.measure])

    def query(self) -> dict[str, str]:
        """The settings as URL query parameters of the full page (true/false as the toggles' 1/0)."""
        return {k: ("1" if v else "0") if isinstance(v, bool) else str(v) for k, v in self.settings}


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


# {name} or {name:spec}: the name a quantity the view measures (or value, in a reveal); other braces, such as
# LaTeX's \\mathrm{end} or _{t}, are left as they are
PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)(?::([^{}]*))?\}")


def fill(text: str, measures: Mapping[str, float], value: float | None = None) -> str:
    """text with each placeholder of a measured quantity replaced by its value in its format spec."""
    def one(m: re.Match) -> str:
        name, spec = m.group(1), m.group(2) or ""
        if name == "value" and value is not None:
            return format(value, spec)
        return format(measures[name], spec) if name in measures else m.group(0)
    return PLACEHOLDER.sub(one, text)


def _check_placeholders(where: str, field: str, text: str, view: View, settings: dict, reveal: bool) -> None:
    """Outside formulas every {name} must be a measure the view has with these settings (or value, in a reveal,
    where it must appear) with a format spec that formats a number; a text shown before the reveal may not hold
    value."""
    prose = re.sub(r"\$\$.+?\$\$|\$.+?\$", "", text, flags=re.S)
    names = {m.group(1): m.group(2) or "" for m in PLACEHOLDER.finditer(prose)}
    if reveal and "value" not in names:
        raise LessonError(f"{where}: the field '{field}' must contain {{value}}.")
    for name, spec in names.items():
        if name == "value" and not reveal:
            raise LessonError(f"{where}: the field '{field}' may not hold {{value}}: it is shown before the reveal.")
        if name != "value" and name not in view.measures:
            raise LessonError(f"{where}: the field '{field}' names {{{name}}}, which the view does not measure; it "
                              f"measures {', '.join(sorted(view.measures))}.")
        try:
            format(1.2345, spec)
        except (ValueError, TypeError) as err:
            raise LessonError(f"{where}: the field '{field}' has a bad format spec in {{{name}:{spec}}}: {err}.") \
                from err
        if name != "value" and view.check is not None:
            try:
                view.check(settings, name)
            except ValueError as err:
                raise LessonError(f"{where}: the field '{field}', {{{name}}}: {err}") from err


def _predict(where: str, table) -> Predict:
    if not isinstance(table, dict):
        raise LessonError(f"{where}: 'predict' must be a table ([steps.predict]).")
    _only(where, table, {"question", "choices", "bounds", "tolerance"})
    question = _field(where, table, "question", str)
    if "choices" in table:
        choices = _field(where, table, "choices", list)
        if len(choices) < 2 or not all(isinstance(c, str) and c.strip() for c in choices):
            raise LessonError(f"{where}: 'choices' must list at least two non-empty texts.")
        bounds = _field(where, table, "bounds", list)
        if (len(bounds) != len(choices) - 1 or not all(isinstance(b, (int, float)) and not isinstance(b, bool)
                                                       for b in bounds)):
            raise LessonError(f"{where}: 'bounds' must list {len(choices) - 1} number(s), one between each two "
                              f"choices; got {bounds!r}.")
        if any(a >= b for a, b in zip(bounds, bounds[1:])):
            raise LessonError(f"{where}: 'bounds' must increase; got {bounds!r}.")
        if "tolerance" in table:
            raise LessonError(f"{where}: 'tolerance' is for a number prediction, not with 'choices'.")
        return Predict(question, tuple(choices), tuple(float(b) for b in bounds))
    if "bounds" in table:
        raise LessonError(f"{where}: 'bounds' go with 'choices'; a number prediction has a 'tolerance'.")
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
    if view.check is not None:
        try:
            view.check(dict(settings), measure)
        except ValueError as err:
            raise LessonError(f"{where}: the field 'settings': {err}") from err
    reveal = _field(where, table, "reveal", str)
    _check_placeholders(where, "reveal", reveal, view, dict(settings), reveal=True)
    text = _field(where, table, "text", str)
    _check_placeholders(where, "text", text, view, dict(settings), reveal=False)
    predict = _predict(where + ", predict", table["predict"]) if "predict" in table else None
    return Step(_field(where, table, "title", str), text, view_name,
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
    for path in sorted(p for p in folder.glob("*.toml") if p.name != GALLERY_FILE):
        try:
            lessons.append(load_lesson(path, views))
        except LessonError as err:
            problems.append(str(err))
    return lessons, problems


@dataclass(frozen=True)
class Preset:
    """A Break-it preset: a view with settings where something goes wrong on purpose. step.text says what
    to notice, why explains it, step.reveal states the measured value that shows it."""

    step: Step
    why: str  # may name the view's measures as the text does

    def shown_why(self, measures: Mapping[str, float]) -> str:
        return fill(self.why, measures)


def load_gallery(views: Mapping[str, View], folder: Path = LESSONS_DIR) -> tuple[list[Preset], list[str]]:
    """The Break-it presets of GALLERY_FILE ([[presets]]: title, notice, why, view, settings, measure, reveal),
    and a message for each that could not be used."""
    path = folder / GALLERY_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        return [], [f"{path.name}: cannot be read: {err}."]
    presets, problems = [], []
    if set(data) != {"presets"} or not isinstance(data["presets"], list):
        return [], [f"{path.name}: the file holds [[presets]] tables and nothing else."]
    for i, table in enumerate(data["presets"], start=1):
        where = f"{path.name}, preset {i}"
        try:
            if not isinstance(table, dict):
                raise LessonError(f"{where}: a preset must be a table ([[presets]]).")
            _only(where, table, {"title", "notice", "why", "view", "settings", "measure", "reveal"})
            why = _field(where, table, "why", str)
            as_step = {("text" if k == "notice" else k): v for k, v in table.items() if k != "why"}
            if "text" not in as_step:
                raise LessonError(f"{where}: the field 'notice' is missing.")
            step = _step(where, as_step, views)
            _check_placeholders(where, "why", why, views[step.view], dict(step.settings), reveal=False)
            presets.append(Preset(step, why))
        except LessonError as err:
            problems.append(str(err))
    return presets, problems
