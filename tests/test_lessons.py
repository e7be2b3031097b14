"""The lesson-file reader: a good file loads as written; each malformed field is rejected with a message
that names the file, the step and the field (explorer/lessons/course.py, format in lessons/README.md)."""
import re
from pathlib import Path

import pytest

from explorer.lessons.course import LessonError, View, load_lesson, load_lessons

VIEWS = {"forward.cloud": View("forward", frozenset({"data", "kind", "T", "t"}),
                               frozenset({"sw_chain_vs_jump", "alpha_bar_t"}))}

STEP = '''
[[steps]]
title = "Step {i}"
text = "Noise $x_t$ at step {i}."
view = "forward.cloud"
settings = {{ data = "two_moons", T = 1000, t = {t} }}
measure = "alpha_bar_t"
reveal = "Measured: {{value:.3f}}."
'''
PREDICT_CHOICE = '''
[steps.predict]
question = "More or less than a half?"
choices = ["less", "more"]
bounds = [0.5]
'''
PREDICT_NUMBER = '''
[steps.predict]
question = "How much signal power is left?"
tolerance = 0.1
'''


def lesson_text(n_steps: int = 4, head: str = 'title = "Noising"\nquestion = "Is x_T noise?"\n',
                extra: str = PREDICT_CHOICE) -> str:
    steps = [STEP.format(i=i, t=100 * i) for i in range(1, n_steps + 1)]
    steps[0] += extra
    return head + "".join(steps)


def write(tmp_path: Path, text: str, name: str = "01_noising.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_lesson_loads_as_written(tmp_path):
    lesson = load_lesson(write(tmp_path, lesson_text()), VIEWS)
    assert (lesson.name, lesson.title, lesson.question, len(lesson.steps)) == ("01_noising", "Noising", "Is x_T noise?", 4)
    first, second = lesson.steps[0], lesson.steps[1]
    assert first.view == "forward.cloud" and first.measure == "alpha_bar_t"
    assert first.query() == {"T": "1000", "data": "two_moons", "t": "100"}
    assert first.predict.choices == ("less", "more") and first.predict.bounds == (0.5,) and not first.predict.is_number
    # the measurement settles a choice: the interval between the bounds that holds the value
    assert [first.predict.right_choice(v) for v in (0.1, 0.4999, 0.5, 3.0)] == [0, 0, 1, 1]
    assert first.predict.is_right(1, 0.7) and not first.predict.is_right(0, 0.7)
    assert second.predict is None and second.reveal.format(value=0.25) == "Measured: 0.250."
    number = load_lesson(write(tmp_path, lesson_text(extra=PREDICT_NUMBER)), VIEWS).steps[0].predict
    assert number.is_number and number.tolerance == 0.1
    assert number.is_right(1.09, 1.0) and number.is_right(0.91, 1.0) and not number.is_right(1.11, 1.0)


@pytest.mark.parametrize("change, words", [
    (lambda s: s.replace('title = "Noising"\n', ""), "the field 'title' is missing"),
    (lambda s: s.replace('question = "Is x_T noise?"', 'question = "  "'), "the field 'question' is empty"),
    (lambda s: s.replace('question = "Is x_T noise?"', "question = 3"), "the field 'question' must be str"),
    (lambda s: s + 'colour = "red"\n', None),  # after the last step: a field of that step
    (lambda s: 'teacher = "me"\n' + s, "unknown field 'teacher'"),
    (lambda s: s.replace('view = "forward.cloud"', 'view = "forward.clod"', 1), "unknown view 'forward.clod'"),
    (lambda s: s.replace("data = ", "dataset = ", 1), "has no setting 'dataset'"),
    (lambda s: s.replace("t = 100 }", "t = [1, 2] }", 1), "the setting 't' must be a text, a number"),
    (lambda s: s.replace('measure = "alpha_bar_t"', 'measure = "kl"', 1), "does not measure 'kl'"),
    (lambda s: s.replace("Measured: {value:.3f}.", "Measured.", 1), "must contain {value}"),
    (lambda s: s.replace("Measured: {value:.3f}.", "{value} and {other}", 1), "does not measure"),
    (lambda s: s.replace("{value:.3f}", "{value:.3q}", 1), "bad format spec"),
    (lambda s: s.replace("bounds = [0.5]", "bounds = [0.5, 0.7]"), "'bounds' must list 1 number(s)"),
    (lambda s: s.replace("bounds = [0.5]", 'bounds = ["half"]'), "'bounds' must list 1 number(s)"),
    (lambda s: s.replace("bounds = [0.5]", "bounds = 0.5"), "the field 'bounds' must be list"),
    (lambda s: s.replace("bounds = [0.5]\n", ""), "the field 'bounds' is missing"),
    (lambda s: s.replace('choices = ["less", "more"]', 'choices = ["less", "same", "more"]').replace(
        "bounds = [0.5]", "bounds = [0.5, 0.2]"), "'bounds' must increase"),
    (lambda s: s.replace('choices = ["less", "more"]', 'choices = ["more"]'), "at least two"),
    (lambda s: s.replace("bounds = [0.5]", "bounds = [0.5]\ntolerance = 0.1"), "'tolerance' is for a number"),
    (lambda s: s.replace('title = "Step 1"', 'title = "Step 1"\nmeasures = "x"'), "unknown field 'measures'"),
    (lambda s: s.replace("[steps.predict]", "[steps.predikt]"), "unknown field 'predikt'"),
    (lambda s: s.replace('title = "Noising"', 'title = "Noising'), "not valid TOML"),
])
def test_each_malformed_field_is_named(tmp_path, change, words):
    text = change(lesson_text())
    with pytest.raises(LessonError) as err:
        load_lesson(write(tmp_path, text), VIEWS)
    message = str(err.value)
    assert message.startswith("01_noising.toml")
    if words is None:
        assert "step 4" in message and "unknown field 'colour'" in message
    else:
        assert words in message, message


@pytest.mark.parametrize("extra, words", [
    ('[steps.predict]\nquestion = "How much?"\n', "the field 'tolerance' is missing"),
    ('[steps.predict]\nquestion = "How much?"\ntolerance = 1.5\n', "in (0, 1]"),
    ('[steps.predict]\nquestion = "How much?"\nbounds = [3]\ntolerance = 0.1\n', "'bounds' go with 'choices'"),
])
def test_number_predictions_are_checked(tmp_path, extra, words):
    with pytest.raises(LessonError, match=re.escape(words)):
        load_lesson(write(tmp_path, lesson_text(extra=extra)), VIEWS)


@pytest.mark.parametrize("n", [3, 9])
def test_a_lesson_has_four_to_eight_steps(tmp_path, n):
    with pytest.raises(LessonError, match=f"4 to 8 steps; this one has {n}"):
        load_lesson(write(tmp_path, lesson_text(n_steps=n)), VIEWS)


def test_one_bad_file_does_not_stop_the_others(tmp_path):
    write(tmp_path, lesson_text(), "01_good.toml")
    write(tmp_path, lesson_text().replace('view = "forward.cloud"', 'view = "nope"', 1), "02_bad.toml")
    write(tmp_path, lesson_text(n_steps=5), "03_good.toml")
    (tmp_path / "README.md").write_text("not a lesson")
    lessons, problems = load_lessons(VIEWS, tmp_path)
    assert [lesson.name for lesson in lessons] == ["01_good", "03_good"]
    assert len(problems) == 1 and problems[0].startswith("02_bad.toml, step 1") and "unknown view 'nope'" in problems[0]


def test_measured_values_are_placeholders_filled_from_the_view(tmp_path):
    """A text or reveal names another measured quantity as {name:spec}; the step fills it from the measures the view
    computed, and leaves a formula's braces alone."""
    text = lesson_text().replace('text = "Noise $x_t$ at step 1."',
                                 'text = "Noise $x_{t}$ keeps {alpha_bar_t:.0%} of the signal power at step 1."', 1)
    text = text.replace("Measured: {value:.3f}.", "Measured: {value:.3f}; apart {sw_chain_vs_jump:.2f}.", 1)
    step = load_lesson(write(tmp_path, text), VIEWS).steps[0]
    measures = {"alpha_bar_t": 0.25, "sw_chain_vs_jump": 0.0123}
    assert step.shown_text(measures) == "Noise $x_{t}$ keeps 25% of the signal power at step 1."
    assert step.revealed(measures) == "Measured: 0.250; apart 0.01."


@pytest.mark.parametrize("change, words", [
    # a measured value before the reveal would give the answer away
    (lambda s: s.replace('text = "Noise $x_t$ at step 1."', 'text = "It is {value:.2f}."', 1), "may not hold {value}"),
    # a typo in a placeholder's name is found, not shown as "{alpha_bart}"
    (lambda s: s.replace('text = "Noise $x_t$ at step 1."', 'text = "Left: {alpha_bart}."', 1),
     "names {alpha_bart}, which the view does not measure"),
    (lambda s: s.replace('text = "Noise $x_t$ at step 1."', 'text = "Left: {alpha_bar_t:.2q}."', 1),
     "bad format spec"),
])
def test_placeholders_are_checked(tmp_path, change, words):
    with pytest.raises(LessonError) as err:
        load_lesson(write(tmp_path, change(lesson_text())), VIEWS)
    assert "01_noising.toml, step 1" in str(err.value) and words in str(err.value)
