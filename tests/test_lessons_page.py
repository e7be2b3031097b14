"""The Lessons page through AppTest: every step of every lesson walked with ◀ ▶, predicted and revealed (the
revealed number recomputed here), every "open this in the full page" link opened with its settings, the
Break-it gallery, bad links, presenter mode."""
from urllib.parse import parse_qsl

import pytest

from explorer.lessons.course import load_gallery, load_lessons
from explorer.ui.lessons import catalog
from explorer.ui.layout import PAGES
from test_pages import assert_clean, open_page

LESSONS, _ = load_lessons(catalog.SPECS)
PRESETS, _ = load_gallery(catalog.SPECS)
PAGE_OF = {p.file.removesuffix(".py"): p for p in PAGES}


def reveal_key(at) -> str:
    found = [b.key for b in at.button if b.label == "Reveal the measurement"]
    assert found, [b.label for b in at.button]
    return found[0]


def link_of(at) -> tuple[str, dict]:
    links = [link.proto for link in at.get("page_link") if link.proto.label.startswith("Open this in the full page")]
    assert len(links) == 1
    return links[0].page, dict(parse_qsl(links[0].query_string))


@pytest.mark.slow
@pytest.mark.parametrize("number", range(1, len(LESSONS) + 1))
def test_walk_every_step_predict_and_reveal(number):
    lesson = LESSONS[number - 1]
    at = open_page("lessons", lesson=number, step=1)
    for k, step in enumerate(lesson.steps):
        assert_clean(at)
        assert at.query_params["lesson"] == str(number) and at.query_params["step"] == str(k + 1)
        assert [s.value for s in at.subheader] == [step.title]
        assert f"step {k + 1} of {len(lesson.steps)}" in at.get("progress")[0].proto.text
        measures = catalog.VIEWS[step.view].build(dict(step.settings)).measures
        value, expected = measures[step.measure], step.revealed(measures)
        if step.predict is not None:
            assert expected not in [i.value for i in at.info]  # nothing revealed before the question is answered
            assert at.button(key=reveal_key(at)).disabled
            if step.predict.is_number:
                at.number_input(key=f"{lesson.name}_{k}_guess").set_value(round(value * 1.05, 6)).run()
            else:
                at.radio(key=f"{lesson.name}_{k}_guess").set_value(step.predict.right_choice(value)).run()
            at.button(key=reveal_key(at)).click().run()
        else:  # no question, so no Reveal button: the measurement is shown at once
            assert not [b for b in at.button if b.label == "Reveal the measurement"]
        assert expected in [i.value for i in at.info], ([i.value for i in at.info], expected)
        if step.predict is not None:  # a 5 % estimate or the measured choice: both right
            assert any(s.value.startswith("Right:") for s in at.success), [s.value for s in at.success]
        page, query = link_of(at)
        assert page == PAGE_OF[catalog.VIEWS[step.view].spec.page].file.removesuffix(".py")
        assert query == catalog.VIEWS[step.view].link(step.query())
        if k + 1 < len(lesson.steps):
            at.button(key="lesson_next").click().run()
    assert at.button(key="lesson_next").disabled
    at.button(key="lesson_prev").click().run()
    assert at.query_params["step"] == str(len(lesson.steps) - 1)


@pytest.mark.slow
def test_a_wrong_prediction_is_told_so():
    at = open_page("lessons", lesson=1, step=2)  # "99 % or more" is right
    at.radio(key="01_noising_1_guess").set_value(0).run()
    at.button(key=reveal_key(at)).click().run()
    assert any(w.value.startswith("Not this time: the measurement says **99 % or more**") for w in at.warning)


def test_a_step_without_a_question_shows_its_measurement_at_once():
    lesson, k = LESSONS[0], 0
    assert lesson.steps[k].predict is None  # lesson 1 opens on the data, with nothing to predict
    at = open_page("lessons", lesson=1, step=k + 1)
    assert_clean(at)
    measures = catalog.VIEWS[lesson.steps[k].view].build(dict(lesson.steps[k].settings)).measures
    assert lesson.steps[k].revealed(measures) in [i.value for i in at.info]
    assert not [b for b in at.button if "Reveal" in b.label or "Show" in b.label], [b.label for b in at.button]


@pytest.mark.parametrize("step, answer", [(2, 1), (3, 0.3)])  # a choice ("99 % or more"), a number (ᾱ_250)
def test_back_and_next_return_to_a_revealed_step_with_its_verdict(step, answer):
    """◀ Back (and Next ▶) keep a step's answer and verdict: Streamlit drops the value of a widget a run does not
    draw, so the page keeps the answer in a key of its own and gives it back to the widget."""
    key = f"01_noising_{step - 1}"
    at = open_page("lessons", lesson=1, step=step)
    widget = at.radio(key=f"{key}_guess") if isinstance(answer, int) else at.number_input(key=f"{key}_guess")
    widget.set_value(answer).run()
    at.button(key=reveal_key(at)).click().run()
    verdicts = [m.value for m in (*at.success, *at.warning) if m.value.startswith(("Right:", "Not this time:"))]
    assert len(verdicts) == 1
    at.button(key="lesson_next").click().run()
    assert f"{key}_guess" not in at.session_state  # the widget's own value is gone while another step shows
    at.button(key="lesson_prev").click().run()
    assert_clean(at)
    assert at.query_params["step"] == str(step)
    again = at.radio(key=f"{key}_guess") if isinstance(answer, int) else at.number_input(key=f"{key}_guess")
    assert again.value == answer and again.disabled  # the answer given, kept; no changing it after the reveal
    assert not [b for b in at.button if b.label == "Reveal the measurement"]  # still revealed
    assert [m.value for m in (*at.success, *at.warning) if m.value.startswith(("Right:", "Not this time:"))] == verdicts


def every_link():
    """(page, settings) of every step and preset: each distinct link once."""
    items = [s for lesson in LESSONS for s in lesson.steps] + [p.step for p in PRESETS]
    seen = {}
    for item in items:
        view = catalog.VIEWS[item.view]
        seen[(view.spec.page, tuple(sorted(view.link(item.query()).items())))] = item
    return sorted(seen)


def as_url(v) -> str:
    """A widget's value as explorer.ui.state writes it to the URL."""
    if isinstance(v, bool):
        return "1" if v else "0"
    return ",".join(v) if isinstance(v, list) else str(v)


@pytest.mark.slow
@pytest.mark.parametrize("page, query", every_link())
def test_every_full_page_link_opens_that_page_with_its_settings(page, query):
    at = open_page(page, **dict(query))
    assert_clean(at)
    assert not at.warning or all("Ignored the link's value" not in w.value for w in at.warning), \
        [w.value for w in at.warning]
    for key, value in query:  # each widget holds the link's value, as the page writes it back to the URL
        assert as_url(at.session_state[key]) == value, (key, at.session_state[key], value)


@pytest.mark.slow
def test_break_it_gallery_one_click_each():
    at = open_page("lessons", mode="break")
    assert_clean(at)
    assert len([b for b in at.button if b.key and b.key.startswith("preset_")]) == len(PRESETS) >= 8
    for i, preset in enumerate(PRESETS):
        at.button(key=f"preset_{i}").click().run()
        assert_clean(at)
        assert at.query_params["preset"] == str(i + 1) and [s.value for s in at.subheader] == [preset.step.title]
        measures = catalog.VIEWS[preset.step.view].build(dict(preset.step.settings)).measures
        assert preset.step.revealed(measures) in [x.value for x in at.info]
        assert any(preset.shown_why(measures) in m.value for m in at.markdown)
        if preset.step.view == "score.langevin":
            assert any("diverged" in w.value for w in at.warning)  # the divergence warning, as on the full page


@pytest.mark.parametrize("params, words", [
    ({"lesson": 99}, "The link asks for lesson '99', but there are"),
    ({"lesson": "two"}, "The link asks for lesson 'two'"),
    ({"lesson": 1, "step": 0}, "The link asks for step '0'"),
    ({"lesson": 2, "step": "4.5"}, "The link asks for step '4.5'"),
    ({"mode": "chaos"}, "The link asks for mode 'chaos'"),
    ({"mode": "break", "preset": 1000}, "The link asks for Break-it preset '1000'"),
    ({"lesson": "9" * 2000}, "The link asks for lesson '" + "9" * 39 + "'…, but there are"),  # quoted short
    ({"mode": "z" * 2000}, "The link asks for mode '" + "z" * 39 + "'…; showing"),
])
def test_bad_links_give_a_message_and_a_working_page(params, words):
    at = open_page("lessons", **params)
    assert_clean(at)
    assert any(w.value.startswith(words) for w in at.warning), [w.value for w in at.warning]
    assert at.get("plotly_chart") or at.get("image")  # and it still shows a step


def test_a_shared_link_opens_that_step():
    at = open_page("lessons", lesson=2, step=3)
    assert_clean(at)
    assert [s.value for s in at.subheader] == [LESSONS[1].steps[2].title]


def test_presenter_mode_hides_the_chrome_and_can_be_left():
    at = open_page("lessons", present=1, lesson=1, step=1)
    assert_clean(at)
    styles = [h.proto.body for h in at.get("html")]
    assert any("font-size: 22px" in s for s in styles)
    assert not at.selectbox and not [b for b in at.button if b.key == "handout_prepare"]
    at.button(key="leave_present").click().run()
    assert not any("font-size: 22px" in h.proto.body for h in at.get("html"))
    assert at.selectbox  # the lesson picker is back
    assert at.query_params["present"] == "0"


@pytest.mark.parametrize("page", ["forward", "reverse"])
def test_full_pages_honour_present(page):
    at = open_page(page, present=1)
    assert_clean(at)
    assert any("font-size: 22px" in h.proto.body for h in at.get("html"))
    assert at.toggle(key="present").value


def test_the_handout_is_offered_once_prepared():
    at = open_page("lessons", lesson=1)
    at.button(key="handout_prepare").click().run()
    assert_clean(at)
    assert [b for b in at.get("download_button") if "handout" in b.proto.label]
