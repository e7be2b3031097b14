"""One lesson step on screen: its live view (from the full page's cached runs), its figures and text, the
prediction and the reveal that settles it, the link to the full page, and a lesson's handout."""
from __future__ import annotations

import streamlit as st

from explorer.lessons.course import Lesson, Step
from explorer.ui import layout
from explorer.ui.layout import PAGES
from explorer.ui.lessons import catalog

PAGE_FILES = {p.file.removesuffix(".py"): p for p in PAGES}


def go(lesson: int, step: int) -> None:
    st.session_state["lesson_at"] = (lesson, step)


def compute_view(view_name: str, settings: dict):
    """The step's live view (figures, measures, warnings), from the full page's cached computations."""
    with layout.friendly_errors("show this view"), st.spinner("Computing this view…"):
        return catalog.VIEWS[view_name].build(settings)


def course():
    """(lessons, problems, presets, gallery problems) from lessons/*.toml, parsed once per server process and again
    only when a file changes (a class's sixty screens rerun the page every time the teacher moves)."""
    from explorer.lessons.course import LESSONS_DIR
    return _course(tuple((p.name, p.stat().st_mtime_ns) for p in sorted(LESSONS_DIR.glob("*.toml"))))


@st.cache_resource(max_entries=2, show_spinner=False)
def _course(_files: tuple):
    from explorer.lessons.course import load_gallery, load_lessons
    return (*load_lessons(catalog.SPECS), *load_gallery(catalog.SPECS))


def class_view(view_name: str, settings: dict):
    """compute_view as a class sees it: made once per server for every student's screen, its plotly figures frozen
    (each figure's dict made once, not once a student and a rerun)."""
    with layout.friendly_errors("show this view"), st.spinner("Computing this view…"):
        return _class_view(view_name, tuple(sorted(settings.items())))


@st.cache_resource(max_entries=32, show_spinner=False)
def _class_view(view_name: str, settings: tuple):
    from dataclasses import replace

    from explorer.draw.frozen import Frozen
    shown = catalog.VIEWS[view_name].build(dict(settings))
    return replace(shown, figures=[(Frozen(f) if hasattr(f, "to_dict") else f, c) for f, c in shown.figures])


def draw_figures(shown, key: str) -> None:
    """The view's warnings, then its figures, two to a row at most so that none is squeezed."""
    for warning in shown.warnings:
        st.warning(warning, icon=":material/warning:")
    figs = shown.figures
    for row in range(0, len(figs), 2):
        cols = st.columns(2, gap="medium") if len(figs) > 1 else [st.container()]
        for i, ((fig, caption), col) in enumerate(zip(figs[row:row + 2], cols), start=row):
            with col:
                if hasattr(fig, "to_dict"):
                    layout.chart(st, fig, width="stretch", key=f"{key}_fig{i}")
                    st.caption(caption)
                else:
                    st.image(fig, caption=caption, width="stretch", alt=caption)


def step_layout(item: Step, shown, key: str, body) -> None:
    """One figure: the text beside it. Several: the text above them, the figures across the whole width."""
    if len(shown.figures) == 1:
        text_col, view_col = st.columns([2, 3], gap="large")
        with view_col:
            draw_figures(shown, key)
        with text_col:
            body()
    else:
        body()
        draw_figures(shown, key)


def full_page_link(item: Step) -> None:
    view = catalog.VIEWS[item.view]
    page = PAGE_FILES[view.spec.page]
    st.page_link(str(layout.PAGES_DIR / page.file), label=f"Open this in the full page: {page.title}",
                 icon=":material/open_in_new:", query_params=view.link(item.query()))


def predict_and_reveal(step: Step, measures: dict, key: str) -> None:
    """The prediction, then the reveal once it is answered, with the measured value; a step without a question
    shows its measurement at once. The answer and the reveal are kept in plain session keys (Streamlit drops a
    widget's value on a run that does not draw it), so ◀ Back to a revealed step shows it as it was."""
    value = measures[step.measure]
    if step.predict is None:
        st.info(step.revealed(measures), icon=":material/straighten:")
        return
    revealed = st.session_state.get(f"{key}_revealed", False)
    guess_key, kept_key = f"{key}_guess", f"{key}_answer"
    if guess_key not in st.session_state and kept_key in st.session_state:
        st.session_state[guess_key] = st.session_state[kept_key]  # the widget comes back with the answer given
    p = step.predict
    st.markdown(f"**Predict.** {p.question}")
    if p.is_number:
        guess = st.number_input("Your estimate", value=None, key=guess_key, format="%g", placeholder="type a number",
                                disabled=revealed)
    else:
        guess = st.radio("Your answer", range(len(p.choices)), index=None, key=guess_key, disabled=revealed,
                         format_func=lambda i: p.choices[i], label_visibility="collapsed")
    st.session_state[kept_key] = guess
    if not revealed:
        answered = guess is not None
        if st.button("Reveal the measurement", key=f"{key}_reveal", type="primary", disabled=not answered,
                     icon=":material/visibility:", help=None if answered else "Answer the question first."):
            st.session_state[f"{key}_revealed"] = True
            st.rerun(scope="app")
        return
    st.info(step.revealed(measures), icon=":material/straighten:")
    if guess is not None:
        right = p.is_right(guess, value)
        truth = f"the measurement says **{p.choices[p.right_choice(value)]}**" if not p.is_number else \
            f"measured **{value:.4g}**, your estimate {guess:g} ({abs(guess - value) / abs(value):.0%} off; within " \
            f"{p.tolerance:.0%} counts)" if value else f"measured **{value:.4g}**"
        (st.success if right else st.warning)(("Right: " if right else "Not this time: ") + truth + ".")


def lesson_step(lesson_index: int, lesson: Lesson, k: int, teaching: bool = False):
    """The step with its navigation; returns its live view (its measures are what a class's reveal shows). A teacher
    with a class draws the class's shared view (class_view): their Next does not hold the server while figures
    are made anew."""
    step, n = lesson.steps[k], len(lesson.steps)
    key = f"{lesson.name}_{k}"
    nav_prev, nav_bar, nav_next = st.columns([1, 5, 1], vertical_alignment="center")
    nav_prev.button("◀ Back", key="lesson_prev", on_click=go, args=(lesson_index, k - 1), disabled=k == 0,
                    width="stretch", help="Previous step")
    nav_next.button("Next ▶", key="lesson_next", on_click=go, args=(lesson_index, k + 1), disabled=k == n - 1,
                    width="stretch", help="Next step")
    nav_bar.progress((k + 1) / n, text=f"**{lesson.title}** — step {k + 1} of {n}: {step.title}")
    shown = (class_view if teaching else compute_view)(step.view, dict(step.settings))

    def body() -> None:
        st.subheader(step.title)
        if len(shown.figures) == 1:
            st.markdown(step.shown_text(shown.measures))
            predict_and_reveal(step, shown.measures, key)
            full_page_link(step)
            return
        read, ask = st.columns([3, 2], gap="large")
        read.markdown(step.shown_text(shown.measures))
        with read:
            full_page_link(step)
        with ask:
            predict_and_reveal(step, shown.measures, key)
    step_layout(step, shown, key, body)
    return shown


def class_step(lesson: Lesson, k: int, ask) -> None:
    """A step as a student in a class sees it: the teacher moves, so no navigation; ask(step, measures) — the
    question and the answer — beside the figures, the step's text under the answer (on a phone, where columns
    stack, the question and its controls come first, the figures under them)."""
    step, n = lesson.steps[k], len(lesson.steps)
    st.progress((k + 1) / n, text=f"**{lesson.title}** — step {k + 1} of {n}: {step.title}")
    shown = class_view(step.view, dict(step.settings))
    answer, figures = st.columns([2, 3], gap="large")
    with answer:
        ask(step, shown.measures)
        st.markdown(step.shown_text(shown.measures))
    with figures:
        draw_figures(shown, f"class_{lesson.name}_{k}")


def handout_button(lesson: Lesson) -> None:
    st.divider()
    if st.session_state.get(f"handout_{lesson.name}"):
        html = make_handout(lesson)
        st.download_button("Download the handout (HTML)", html, f"{lesson.name}.html", "text/html",
                           icon=":material/download:", key="handout_download")
    elif st.button("Prepare a handout of this lesson", icon=":material/description:", key="handout_prepare",
                   help="One self-contained HTML file: the text, the formulas, every step's figures as pictures, "
                        "the questions, and the measured answers at the end."):
        st.session_state[f"handout_{lesson.name}"] = True
        st.rerun()


@st.cache_resource(max_entries=16, show_spinner="Writing the handout…")
def make_handout(lesson: Lesson) -> bytes:
    from explorer.draw import handout  # matplotlib: only for a handout, not on the way to the first figure
    shown = [catalog.VIEWS[step.view].build(dict(step.settings)) for step in lesson.steps]
    return handout.lesson_html(lesson, shown).encode("utf-8")
