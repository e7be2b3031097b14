"""A student in a class on the Lessons page: join with a display name (by the link or the code), follow the
teacher's step (the server reruns the page when the teacher moves or reveals: explorer.ui.lessons.follow), answer
until the reveal, then see the measurement and the class's answers. Names and answers are shown as text, never as
Markdown."""
from __future__ import annotations

import streamlit as st

from explorer.classroom.store import normalise_code, shown_code
from explorer.lessons.course import Lesson, Step
from explorer.ui.lessons import follow
from explorer.ui.lessons.classroom import JOIN_TRIES, STUDENT, _failed, _tries, class_tally_chart, position, store


def join_form(code: str | None, title: bool = True) -> None:
    """The display name (and the code, when the link did not bring one); a wrong code counts toward the limit."""
    tries = _tries()
    if title:  # (not inside the Lessons page's "Join a class" popover)
        st.subheader("Join the class")
    with st.form("class_join"):
        typed = st.text_input("Class code", value=code or "", max_chars=12, placeholder="e.g. 9HKM-2456")
        name = st.text_input("Your name, as the class will see it", max_chars=40)
        go = st.form_submit_button("Join", type="primary", icon=":material/login:")
    if not go:
        return
    if len(tries) >= JOIN_TRIES:
        st.error("Too many wrong codes: wait a minute before trying again.", icon=":material/timer:")
        return
    try:
        student = store().join(typed, name)
    except LookupError as err:
        _failed()
        st.error(str(err), icon=":material/error:")
        return
    except ValueError as err:
        st.error(f"Cannot join with that name: {err}", icon=":material/error:")
        return
    st.session_state[STUDENT] = (normalise_code(typed), student, name.strip())
    st.query_params["class"] = normalise_code(typed)
    st.query_params["me"] = student  # a reload (a new session) comes back as this student, not a new one
    st.rerun()


def rejoin_from_link() -> None:
    """?class=CODE&me=ID (the address a student's page keeps): a reloaded page is the same student again."""
    code, me = st.query_params.get("class"), st.query_params.get("me")
    if STUDENT in st.session_state or not code or not me:
        return
    try:
        st.session_state[STUDENT] = (normalise_code(code), me, store().name(code, me))
    except LookupError:
        st.query_params.pop("me", None)  # a stale id: join again


def leave() -> None:
    """On a Lessons page run that is not a student's screen: the server stops pushing a class to this session."""
    follow.unfollow(position)


def student_view(lessons: list[Lesson], show_step) -> None:
    """The student's screen: the teacher's step (its figures and question, drawn by show_step(lesson, k, body)),
    their answer, and after the reveal the measurement and the class's answers."""
    code, student, name = st.session_state[STUDENT]
    try:
        pos = position(code)  # (who the student is was checked when they joined, or when their link brought them back)
    except LookupError as err:
        st.session_state.pop(STUDENT, None)
        st.warning(f"{err}", icon=":material/group_off:")
        return
    follow.follow(code, pos, position)
    st.caption(f"Class {shown_code(code)}")
    st.text(f"You are in as {name}.")  # a name is data: shown as text, never as Markdown
    if pos.lesson is None or pos.lesson >= len(lessons) or pos.step >= len(lessons[pos.lesson].steps):
        st.info("Waiting for the teacher to show a step…", icon=":material/hourglass_top:")
        return
    lesson = lessons[pos.lesson]

    def ask(step: Step, measures: dict) -> None:
        if step.predict is None:
            st.info(step.revealed(measures), icon=":material/straighten:")
            return
        answer_form(code, student, pos, step, measures)
    show_step(lesson, pos.step, ask)


def answer_form(code: str, student: str, pos, step: Step, measures: dict) -> None:
    p, key = step.predict, f"class_{code}_{pos.lesson}_{pos.step}"
    mine = store().mine(code, student, pos.lesson, pos.step)  # from the store: a reloaded page still shows it
    st.markdown(f"**Predict.** {p.question}")
    if not pos.revealed:
        if p.is_number:
            guess = st.number_input("Your estimate", value=None, key=f"{key}_guess", format="%g",
                                    placeholder="type a number")
        else:
            guess = st.radio("Your answer", range(len(p.choices)), index=None, key=f"{key}_guess",
                             format_func=lambda i: p.choices[i], label_visibility="collapsed")
        if st.button("Send my answer" if mine is None else "Change my answer", type="primary",
                     disabled=guess is None, key=f"{key}_send", icon=":material/send:"):
            try:
                store().answer(code, student, pos.lesson, pos.step, p.answer_text(guess))
                st.rerun()
            except (ValueError, LookupError) as err:
                st.error(str(err), icon=":material/error:")
        if mine is not None:
            st.text(f"Sent: {mine}. You can change it until the teacher reveals.")
        return
    st.info(step.revealed(measures), icon=":material/straighten:")
    if mine is not None:
        right = p.is_right(float(mine) if p.is_number else p.choices.index(mine), measures[step.measure])
        (st.success if right else st.warning)("Right." if right else "Not this time.")
        st.text(f"You answered {mine}.")  # the answer as text, like every name and answer
    else:
        st.caption("You did not answer this one.")
    try:
        class_tally_chart(code, pos.lesson, pos.step, step, measures[step.measure], f"{key}_tally")
    except (LookupError, PermissionError) as err:  # the class ended, or the teacher moved on, since this page began
        st.caption(str(err))
