"""The interactive class on the Lessons page: a teacher starts a class and shows its code, join link and QR code;
students join by the link (?class=CODE) or the code, follow the teacher's step, answer its prediction, and after the
reveal see the class's answers beside the measurement. Everything shared lives in the class store
(explorer.classroom), so any replica serves any student; a browser session keeps only who it is.

Names and answers are shown with st.text / as chart labels, never as Markdown: a name is data, not markup.
"""
from __future__ import annotations

import csv
import io
import time

import streamlit as st

from explorer.classroom.store import ClassSession, ClassStore, default_url, normalise_code, shown_code
from explorer.draw.class_figures import class_answers
from explorer.lessons.answers import bars
from explorer.lessons.course import Lesson, Step
from explorer.ui import layout

STUDENT_POLL, TEACHER_POLL = 1.0, 2.0  # seconds between looks at the store: a student follows within ~1 s
JOIN_TRIES, JOIN_WINDOW = 5, 60.0  # wrong codes a browser session may try per window of seconds
TEACHER, STUDENT = "class_teacher", "class_student"  # session keys: ClassSession; (code, student id, name)


@st.cache_resource(show_spinner=False)
def _store(url: str) -> ClassStore:
    return ClassStore(url)


def store() -> ClassStore:
    """The server's class store (one per database URL: $DIFFUSION_EXPLORER_CLASS_DB or the default file)."""
    return _store(default_url())


def join_link(code: str) -> str:
    base = (st.context.url or "").split("?")[0].rstrip("/")
    return f"{base}?class={code}" if base else f"?class={code}"


@st.cache_data(max_entries=64, show_spinner=False)
def qr_png(link: str) -> bytes:
    import segno
    buf = io.BytesIO()
    segno.make(link, error="m").save(buf, kind="png", scale=12, border=2)
    return buf.getvalue()


def _cell(text: str) -> str:
    """A name or answer as a CSV cell a spreadsheet will not run: a leading =, +, − or @ gets a quote mark (a plain
    number such as −1 stays a number)."""
    try:
        float(text)
        return text
    except ValueError:
        return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def answers_csv(rows: list[dict]) -> bytes:
    """The class's answers, one row each: name, lesson and step (1-based), value, time (UTC)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["name", "lesson", "step", "value", "at"])
    writer.writeheader()
    for r in rows:
        writer.writerow({**r, "name": _cell(r["name"]), "value": _cell(r["value"]), "lesson": r["lesson"] + 1,
                         "step": r["step"] + 1,
                         "at": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(r["at"]))})
    return out.getvalue().encode()


def tally_chart(step: Step, value: float, counts: dict[str, int], key: str) -> None:
    """The class's answers as bars beside the share that was right."""
    labels, n, right, share = bars(step.predict, counts, value)
    total = sum(n)
    title = "No answers" if not total else f"{total} answer{'s' if total != 1 else ''}: {share:.0%} right"
    layout.chart(st, class_answers(labels, n, right, title), width="stretch", key=key)


def _tries() -> list[float]:
    """This session's failed attempts (wrong codes, wrong teacher links) within the last JOIN_WINDOW seconds."""
    tries = [t for t in st.session_state.get("class_tries", []) if t > time.time() - JOIN_WINDOW]
    st.session_state["class_tries"] = tries
    return tries


def _failed() -> None:
    st.session_state["class_tries"] = _tries() + [time.time()]


# --- the teacher ----------------------------------------------------------------------------------------
def teacher_link(c: ClassSession) -> str:
    """A link that opens the teacher's view on another device: a single-use token, valid for REOPEN_SECONDS (the
    key itself is never in a link); shown only on request."""
    return f"{join_link(c.code)}&teacher={store().reopen_token(c.code, c.teacher_key)}"


def reopen_from_link() -> None:
    """?class=CODE&teacher=TOKEN: this session becomes a teacher of the class if the token is good (it is then used
    up); the token leaves the address bar at once."""
    token = st.query_params.get("teacher")
    if token is None:
        return
    code = st.query_params.get("class", "")
    for name in ("teacher", "class"):
        st.query_params.pop(name, None)
    if len(_tries()) >= JOIN_TRIES:
        st.error("Too many wrong codes: wait a minute before trying again.", icon=":material/timer:")
        return
    try:
        st.session_state[TEACHER] = store().reopen(code, token)
    except (LookupError, PermissionError):  # one message for both: the page does not tell which codes exist
        _failed()
        st.error("This teacher link is not valid (the class may have ended).", icon=":material/error:")
        return
    st.session_state.pop(STUDENT, None)
    st.session_state.pop("class_key_shown", None)
    pos = store().position(code)
    if pos.lesson is not None:  # carry on where the class is, not at the first step
        st.session_state["lesson_at"] = (pos.lesson, pos.step)
        st.session_state["class_shown"] = (st.session_state[TEACHER].code, pos.lesson, pos.step)


def start_button() -> None:
    if st.button("Start a class", icon=":material/groups:", key="class_start",
                 help="Students join with a code or a link and answer each prediction from their own screens."):
        st.session_state[TEACHER] = store().open()
        st.session_state.pop("class_key_shown", None)
        st.rerun()


def teacher_panel(lesson_index: int, lesson: Lesson, k: int, measures: dict) -> None:
    """The running class: code, link and QR code, live counts, the reveal with the class's answers, the CSV and the
    end. The teacher's current step is what the class sees."""
    c: ClassSession = st.session_state[TEACHER]
    step = lesson.steps[k]
    try:
        if st.session_state.get("class_shown") != (c.code, lesson_index, k):
            store().show(c.code, c.teacher_key, lesson_index, k)
            st.session_state["class_shown"] = (c.code, lesson_index, k)
    except LookupError as err:  # ended elsewhere, or expired
        st.session_state.pop(TEACHER, None)
        st.warning(f"The class has ended: {err}", icon=":material/group_off:")
        return
    try:
        _panel(c, lesson_index, k, step, measures)
    except LookupError as err:  # ended on another device, or expired, while this page was drawn
        st.session_state.pop(TEACHER, None)
        st.warning(f"The class has ended: {err}", icon=":material/group_off:")


def _panel(c: ClassSession, lesson_index: int, k: int, step: Step, measures: dict) -> None:
    link = join_link(c.code)
    if layout.presenting():  # one row on the projector, so that the step's figure stays in the first screen
        with st.container(border=True):
            name, counts, join = st.columns([3, 6, 3], vertical_alignment="center")
            name.markdown(f"**Class `{shown_code(c.code)}`**")
            with counts:
                counts_fragment(c, lesson_index, k, step, measures)
            with join.popover("Join: link and QR code", icon=":material/qr_code_2:", width="stretch"):
                st.code(link, language=None)
                st.image(qr_png(link), caption="Scan to join", width=360)
        return
    with st.container(border=True):
        left, mid, right = st.columns([5, 4, 2], gap="medium")
        with left:
            st.markdown(f"### Class code: `{shown_code(c.code)}`")
            st.markdown("Students open this link, or the Lessons page, and type the code:")
            st.code(link, language=None)
        with mid:
            counts_fragment(c, lesson_index, k, step, measures)
        right.image(qr_png(link), caption="Scan to join", width="stretch")
        a, b, c2 = st.columns([2, 2, 3])
        showing = st.session_state.get("class_key_shown", False)
        if c2.button("Hide the teacher link" if showing else "Show the teacher link", icon=":material/key:",
                     key="class_key_toggle", help="A link that reopens your view of the class on another device."):
            st.session_state["class_key_shown"] = not showing
            st.session_state.pop("class_reopen_link", None)  # a fresh one each time it is shown
            st.rerun()
        if showing:  # only on request: a projector shows what the page shows
            st.warning("Anyone who opens this link first becomes a teacher of the class: they can reveal, download "
                       "and end it. It works once, within ten minutes. Do not show it to the class.",
                       icon=":material/key:")
            if "class_reopen_link" not in st.session_state:
                st.session_state["class_reopen_link"] = teacher_link(c)
            st.code(st.session_state["class_reopen_link"], language=None)
        a.download_button("Download the answers (CSV)", answers_csv(store().answers(c.code, c.teacher_key)),
                          f"class_{c.code}.csv", "text/csv", icon=":material/download:", key="class_csv")
        if b.button("End the class", icon=":material/logout:", key="class_end",
                    help="Deletes the class and every answer: download them first."):
            store().close(c.code, c.teacher_key)
            for name in (TEACHER, "class_key_shown", "class_shown"):
                st.session_state.pop(name, None)
            st.rerun()


@st.fragment(run_every=TEACHER_POLL)
def counts_fragment(c: ClassSession, lesson_index: int, k: int, step: Step, measures: dict) -> None:
    try:
        _counts(c, lesson_index, k, step, measures)
    except LookupError:  # ended on another device, or expired
        st.warning("The class has ended.", icon=":material/group_off:")


def _counts(c: ClassSession, lesson_index: int, k: int, step: Step, measures: dict) -> None:
    pos = store().position(c.code)
    if (pos.lesson, pos.step) != (lesson_index, k):  # another of the teacher's devices moved the class
        st.info(f"The class is on lesson {pos.lesson + 1}, step {pos.step + 1}, moved there from another of your "
                "devices.", icon=":material/devices:")
        if st.button("Show this step to the class", key="class_take_over"):
            store().show(c.code, c.teacher_key, lesson_index, k)
            st.rerun(scope="app")
        return
    m1, m2 = st.columns(2)
    m1.metric("joined", pos.joined)
    if step.predict is None:
        m2.metric("this step", "no question")
        return
    m2.metric("answered this step", pos.answered)
    if not pos.revealed:
        if st.button("Reveal to the class", type="primary", icon=":material/visibility:", key="class_reveal"):
            store().reveal(c.code, c.teacher_key)
            st.rerun(scope="app")
        return
    st.info(step.revealed(measures), icon=":material/straighten:")
    tally_chart(step, measures[step.measure], store().tally(c.code, c.teacher_key, lesson_index, k),
                f"class_tally_{lesson_index}_{k}")


# --- the students -----------------------------------------------------------------------------------------
def join_form(code: str | None) -> None:
    """The display name (and the code, when the link did not bring one); a wrong code counts toward the limit."""
    tries = _tries()
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


@st.fragment(run_every=STUDENT_POLL)
def follow(code: str) -> None:
    """Rerun the page when the teacher moves on or reveals."""
    try:
        pos = store().position(code)
    except LookupError:
        pos = None
    now = None if pos is None else (pos.lesson, pos.step, pos.revealed)
    if st.session_state.get("class_seen", now) != now:
        st.session_state["class_seen"] = now
        st.rerun(scope="app")
    st.session_state["class_seen"] = now


def student_view(lessons: list[Lesson], show_step) -> None:
    """The student's screen: the teacher's step (its figures and question, drawn by show_step(lesson, k, body)),
    their answer, and after the reveal the measurement and the class's answers."""
    code, student, name = st.session_state[STUDENT]
    try:
        pos = store().position(code)
        store().name(code, student)
    except LookupError as err:
        st.session_state.pop(STUDENT, None)
        st.warning(f"{err}", icon=":material/group_off:")
        return
    st.session_state["class_seen"] = (pos.lesson, pos.step, pos.revealed)
    follow(code)
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
    mine = st.session_state.get(f"{key}_sent")
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
                st.session_state[f"{key}_sent"] = p.answer_text(guess)
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
        tally_chart(step, measures[step.measure], store().class_tally(code, pos.lesson, pos.step), f"{key}_tally")
    except (LookupError, PermissionError) as err:  # the class ended, or the teacher moved on, since this page began
        st.caption(str(err))
