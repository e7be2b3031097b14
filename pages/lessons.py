"""Lessons: guided steps through the explorer (lessons/*.toml), a presenter mode and the Break-it gallery.

A step shows its text, a live view of a full page with the step's settings (the same cached runs and
frozen figures that page shows), a prediction asked before the reveal, and the measured value that
settles it. The lesson and step live in the URL (?lesson=N&step=K, 1-based) so a teacher can share
"step 3 of lesson 2"; ?present=1 is presenter mode.
"""
import streamlit as st

from explorer.ui import layout, state
from explorer.ui.lessons import class_student, classroom
from explorer.ui.lessons.step import (class_step, class_view, compute_view, course, draw_figures, full_page_link,
                                      handout_button, lesson_step, step_layout)

GALLERY = "break"  # ?mode=break shows the Break-it gallery

classroom.reopen_from_link()  # ?teacher=…: this session becomes the class's teacher, the key leaves the URL
class_student.rejoin_from_link()  # ?class=…&me=…: a student's reloaded page
in_class = classroom.STUDENT in st.session_state or bool(st.query_params.get("class"))  # a student's screen
layout.header("Lessons", "Short guided lessons: read a step, **predict** what will happen, then **reveal** the "
              "measurement that settles it — on a live figure, the same one the full page shows. "
              "**Break it** collects one-click settings where diffusion fails on purpose, and why.", compact=in_class)
presenting = layout.presenting()

lessons, problems, presets, gallery_problems = course()
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
    if classroom.TEACHER not in st.session_state and not presenting:
        start, join, _ = st.columns([1, 1, 2])
        with start:
            classroom.start_button()
        with join.popover("Join a class", icon=":material/login:"):
            class_student.join_form(None, title=False)
    if classroom.TEACHER in st.session_state:  # the class's panel first: its code stays in view while it runs
        step = lesson.steps[k]
        classroom.teacher_panel(index, lesson, k, class_view(step.view, dict(step.settings)).measures)  # (cached)
    lesson_step(index, lesson, k, teaching=classroom.TEACHER in st.session_state)
    if classroom.TEACHER in st.session_state:  # the class's next steps computed now, so that Next is instant for all
        classroom.prepare(lesson, lambda step: class_view(step.view, dict(step.settings)))
    if not presenting:
        handout_button(lesson)


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
        st.markdown(f"**What to notice.** {preset.step.shown_text(shown.measures)}")
        draw_figures(shown, f"preset_{at}")
        st.info(preset.step.revealed(shown.measures), icon=":material/straighten:")
        st.markdown(f"**Why.** {preset.shown_why(shown.measures)}")
        full_page_link(preset.step)
        return

    def body() -> None:
        st.subheader(preset.step.title)
        st.markdown(f"**What to notice.** {preset.step.shown_text(shown.measures)}")
        st.info(preset.step.revealed(shown.measures), icon=":material/straighten:")
        st.markdown(f"**Why.** {preset.shown_why(shown.measures)}")
        full_page_link(preset.step)
    step_layout(preset.step, shown, f"preset_{at}", body)


if classroom.STUDENT in st.session_state:  # a student in a class: the teacher's step, nothing else to pick
    class_student.student_view(lessons, class_step)
else:
    class_student.leave()  # not (or no longer) a student: the server pushes no class to this tab
    if st.query_params.get("class"):  # the join link
        class_student.join_form(st.query_params.get("class"))
    else:
        mode = st.segmented_control("Show", ["lessons", GALLERY], key="lesson_mode", label_visibility="collapsed",
                                    format_func={"lessons": "Lessons", GALLERY: "Break it"}.get,
                                    width="content") or "lessons"
        (gallery_mode if mode == GALLERY else lessons_mode)()

layout.footer()
