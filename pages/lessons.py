"""Lessons: guided steps through the explorer (lessons/*.toml), a presenter mode and the Break-it gallery.

A step shows its text, a live view of a full page with the step's settings (the same cached runs and
frozen figures that page shows), a prediction asked before the reveal, and the measured value that
settles it. The lesson and step live in the URL (?lesson=N&step=K, 1-based) so a teacher can share
"step 3 of lesson 2"; ?present=1 is presenter mode.
"""
import streamlit as st

from explorer.lessons import Lesson, Step, load_gallery, load_lessons
from explorer.ui import layout, lesson_views, state
from explorer.ui.layout import PAGES

GALLERY = "break"  # ?mode=break shows the Break-it gallery
PAGE_FILES = {p.file.removesuffix(".py"): p for p in PAGES}

layout.header("Lessons", "Short guided lessons: read a step, **predict** what will happen, then **reveal** the "
              "measurement that settles it — on a live figure, the same one the full page shows. "
              "**Break it** collects one-click settings where diffusion fails on purpose, and why.")
presenting = layout.presenting()

lessons, problems = load_lessons(lesson_views.SPECS)
presets, gallery_problems = load_gallery(lesson_views.SPECS)
for problem in problems + gallery_problems:
    st.warning(f"A lesson file could not be used — {problem}", icon=":material/error:")


def url_index(key: str, count: int, what: str) -> int | None:
    """The 1-based ?key=… as a 0-based index, or None with a message when it is missing or unusable."""
    raw = st.query_params.get(key)
    if raw is None:
        return None
    try:
        value = int(raw)
        if not 1 <= value <= count:
            raise ValueError
        return value - 1
    except ValueError:
        st.warning(f"The link asks for {what} {state.excerpt(raw)}, but there {'is' if count == 1 else 'are'} {count} "
                   f"({'1' if count == 1 else f'1 to {count}'}); showing the first instead.")
        return None


# Where we are: seeded from the link once per session, then kept in the session and written back to the URL.
if "lesson_at" not in st.session_state:
    mode = st.query_params.get("mode", "lessons")
    if mode not in ("lessons", GALLERY):
        st.warning(f"The link asks for mode {state.excerpt(mode)}; showing the lessons.")
        mode = "lessons"
    index = url_index("lesson", len(lessons), "lesson") if lessons else None
    step = url_index("step", len(lessons[index or 0].steps), "step") if lessons else None
    preset = url_index("preset", len(presets), "Break-it preset") if presets else None
    st.session_state["lesson_at"] = (index or 0, step or 0)
    st.session_state["lesson_mode"] = mode
    st.session_state["preset_at"] = preset or 0


def go(lesson: int, step: int) -> None:
    st.session_state["lesson_at"] = (lesson, step)


def compute_view(view_name: str, settings: dict):
    """The step's live view (figures, measures, warnings), from the full page's cached computations."""
    with layout.friendly_errors("show this view"), st.spinner("Computing this view…"):
        return lesson_views.VIEWS[view_name].build(settings)


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
    view = lesson_views.VIEWS[item.view]
    page = PAGE_FILES[view.spec.page]
    st.page_link(str(layout.PAGES_DIR / page.file), label=f"Open this in the full page: {page.title}",
                 icon=":material/open_in_new:", query_params=view.link(item.query()))


def predict_and_reveal(step: Step, value: float, key: str) -> None:
    """The prediction, then the reveal once it is answered, with the measured value; a step without a question
    shows its measurement at once. The answer and the reveal are kept in plain session keys (Streamlit drops a
    widget's value on a run that does not draw it), so ◀ Back to a revealed step shows it as it was."""
    if step.predict is None:
        st.info(step.reveal.format(value=value), icon=":material/straighten:")
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
    st.info(step.reveal.format(value=value), icon=":material/straighten:")
    if guess is not None:
        right = p.is_right(guess, value)
        truth = f"the measurement says **{p.choices[p.right_choice(value)]}**" if not p.is_number else \
            f"measured **{value:.4g}**, your estimate {guess:g} ({abs(guess - value) / abs(value):.0%} off; within " \
            f"{p.tolerance:.0%} counts)" if value else f"measured **{value:.4g}**"
        (st.success if right else st.warning)(("Right: " if right else "Not this time: ") + truth + ".")


def lesson_step(lesson_index: int, lesson: Lesson, k: int) -> None:
    step, n = lesson.steps[k], len(lesson.steps)
    key = f"{lesson.name}_{k}"
    nav_prev, nav_bar, nav_next = st.columns([1, 5, 1], vertical_alignment="center")
    nav_prev.button("◀ Back", key="lesson_prev", on_click=go, args=(lesson_index, k - 1), disabled=k == 0,
                    width="stretch", help="Previous step")
    nav_next.button("Next ▶", key="lesson_next", on_click=go, args=(lesson_index, k + 1), disabled=k == n - 1,
                    width="stretch", help="Next step")
    nav_bar.progress((k + 1) / n, text=f"**{lesson.title}** — step {k + 1} of {n}: {step.title}")
    shown = compute_view(step.view, dict(step.settings))

    def body() -> None:
        st.subheader(step.title)
        if len(shown.figures) == 1:
            st.markdown(step.text)
            predict_and_reveal(step, shown.measures[step.measure], key)
            full_page_link(step)
            return
        read, ask = st.columns([3, 2], gap="large")
        read.markdown(step.text)
        with read:
            full_page_link(step)
        with ask:
            predict_and_reveal(step, shown.measures[step.measure], key)
    step_layout(step, shown, key, body)


def lessons_mode() -> None:
    if not lessons:
        st.info("No lessons could be loaded (see the messages above).")
        return
    index, k = st.session_state["lesson_at"]
    index = min(index, len(lessons) - 1)
    k = min(k, len(lessons[index].steps) - 1)
    if not presenting:
        picked = st.selectbox("Lesson", range(len(lessons)), index=index, key=f"lesson_pick_{index}",
                              format_func=lambda i: f"{i + 1}. {lessons[i].title}")
        if picked != index:
            index, k = picked, 0
    st.session_state["lesson_at"] = (index, k)
    st.query_params.update({"mode": "lessons", "lesson": str(index + 1), "step": str(k + 1)})
    st.query_params.pop("preset", None)
    lesson = lessons[index]
    if not presenting:
        st.caption(f"*{lesson.question}*")
    lesson_step(index, lesson, k)
    if not presenting:
        handout_button(lesson)


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
    from explorer import handout  # matplotlib: only for a handout, not on the way to the first figure
    shown = [lesson_views.VIEWS[step.view].build(dict(step.settings)) for step in lesson.steps]
    return handout.lesson_html(lesson, shown).encode("utf-8")


def pick_preset(i: int) -> None:
    st.session_state["preset_at"] = i


def gallery_mode() -> None:
    if not presets:
        st.info("No Break-it presets could be loaded (see the messages above).")
        return
    at = min(st.session_state["preset_at"], len(presets) - 1)
    st.query_params.update({"mode": GALLERY, "preset": str(at + 1)})
    for key in ("lesson", "step"):
        st.query_params.pop(key, None)
    if presenting:  # one row, so that the figure starts in the first screen
        st.selectbox("What to break", range(len(presets)), index=at, key=f"preset_pick_{at}",
                     format_func=lambda i: f"{i + 1}. {presets[i].step.title}", label_visibility="collapsed",
                     on_change=lambda: pick_preset(st.session_state[f"preset_pick_{at}"]))
    else:
        st.markdown("Each button sets up a view where something goes wrong **on purpose**. Notice what happens, "
                    "then read why.")
        per_row = 4
        for row in range(0, len(presets), per_row):
            for j, col in enumerate(st.columns(per_row)):
                i = row + j
                if i < len(presets):
                    col.button(presets[i].step.title, key=f"preset_{i}", on_click=pick_preset, args=(i,),
                               width="stretch", type="primary" if i == at else "secondary")
    preset = presets[at]
    shown = compute_view(preset.step.view, dict(preset.step.settings))
    if presenting and len(shown.figures) > 1:  # the figures first, the text under them
        st.markdown(f"**What to notice.** {preset.step.text}")
        draw_figures(shown, f"preset_{at}")
        st.info(preset.step.reveal.format(value=shown.measures[preset.step.measure]), icon=":material/straighten:")
        st.markdown(f"**Why.** {preset.why}")
        full_page_link(preset.step)
        return

    def body() -> None:
        st.subheader(preset.step.title)
        st.markdown(f"**What to notice.** {preset.step.text}")
        st.info(preset.step.reveal.format(value=shown.measures[preset.step.measure]), icon=":material/straighten:")
        st.markdown(f"**Why.** {preset.why}")
        full_page_link(preset.step)
    step_layout(preset.step, shown, f"preset_{at}", body)


mode = st.segmented_control("Show", ["lessons", GALLERY], key="lesson_mode", label_visibility="collapsed",
                            format_func={"lessons": "Lessons", GALLERY: "Break it"}.get, width="content") or "lessons"
(gallery_mode if mode == GALLERY else lessons_mode)()

layout.footer()
