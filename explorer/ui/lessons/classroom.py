"""The interactive class on the Lessons page: a teacher starts a class and shows its code, join link and QR code
(here); students join by the link (?class=CODE) or the code, follow the teacher's step, answer its prediction, and
after the reveal see the class's answers beside the measurement (class_student). Everything shared lives in the class store
(explorer.classroom), so any replica serves any student; a browser session keeps only who it is.

Names and answers are shown with st.text / as chart labels, never as Markdown: a name is data, not markup.
"""
from __future__ import annotations

import csv
import io
import time

import streamlit as st

from explorer.classroom.store import ClassSession, ClassStore, default_url, shown_code
from explorer.draw.class_figures import class_answers
from explorer.lessons.answers import bars
from explorer.lessons.course import Lesson, Step
from explorer.ui import layout
from explorer.ui.lessons.follow import followers

TEACHER_POLL = 2.0  # seconds between the teacher's looks at the class's counts
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
    layout.chart(st, tally_figure(step, value, counts), width="stretch", key=key)


def tally_figure(step: Step, value: float, counts: dict[str, int]):
    labels, n, right, share = bars(step.predict, counts, value)
    total = sum(n)
    title = "No answers" if not total else f"{total} answer{'s' if total != 1 else ''}: {share:.0%} right"
    return class_answers(labels, n, right, title)


def class_tally_chart(code: str, lesson_index: int, k: int, step: Step, value: float, key: str) -> None:
    """A revealed step's answers as its students see them. No answer is taken after the reveal, so the tally is
    final: read and drawn once per server, not once per student (sixty screens show it at the same moment).
    LookupError or PermissionError as ClassStore.class_tally."""
    layout.chart(st, _final_tally(code, lesson_index, k, step, value), width="stretch", key=key)


@st.cache_resource(max_entries=64, show_spinner=False)
def _final_tally(code: str, lesson_index: int, k: int, _step: Step, _value: float):
    from explorer.draw.frozen import Frozen
    return Frozen(tally_figure(_step, _value, store().class_tally(code, lesson_index, k)))


def _tries() -> list[float]:
    """This session's failed attempts (wrong codes, wrong teacher links) within the last JOIN_WINDOW seconds."""
    tries = [t for t in st.session_state.get("class_tries", []) if t > time.time() - JOIN_WINDOW]
    st.session_state["class_tries"] = tries
    return tries


def _failed() -> None:
    st.session_state["class_tries"] = _tries() + [time.time()]


POSITION_TTL = 0.25  # seconds one server reuses a class's position for its students' screens
_positions: dict = {}  # code -> (_clock(), Position), shared by the server's sessions
_moved: dict = {}  # code -> when this server's teacher last changed the class
_clock = time.monotonic


def position(code: str):
    """The class's position as the store says, read at most once every POSITION_TTL seconds by this server: its
    followers' sweep and sixty students' page runs after a move cost the database a few reads, not sixty.
    LookupError as the store. What the teacher does on this server (moved, revealed, ended) is seen at once."""
    now, hit = _clock(), _positions.get(code)
    if hit is not None and now - hit[0] < POSITION_TTL:
        return hit[1]
    pos = store().position(code)
    if len(_positions) > 1000:  # classes long gone
        _positions.clear(), _moved.clear()
    latest = _positions.get(code)
    if (latest is None or latest[0] <= now) and _moved.get(code, now) <= now:  # not a read older than one kept
        _positions[code] = (now, pos)
    return pos


def moved(code: str) -> None:
    """The teacher changed the class: this server's students read its position afresh, and are pushed it now."""
    _moved[code] = _clock()
    _positions.pop(code, None)
    followers(position).nudge()


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


def prepare(lesson: Lesson, compute) -> None:
    """Compute every step of the class's lesson (compute(step), the cached view) once per server process, after the
    teacher's page is drawn: when the teacher moves on, the class's screens find the step computed. A rerun (Next)
    stops it between steps; the next run goes on with the rest."""
    ready = _prepared()
    if lesson.name in ready:
        return
    with st.spinner("Preparing this lesson's other steps for the class…"):
        for step in lesson.steps:
            compute(step)
    ready.add(lesson.name)


@st.cache_resource(show_spinner=False)
def _prepared() -> set:
    return set()  # the lessons whose steps this process has computed for a class


def teacher_panel(lesson_index: int, lesson: Lesson, k: int, measures: dict) -> None:
    """The running class: code, link and QR code, live counts, the reveal with the class's answers, the CSV and the
    end. The teacher's current step is what the class sees."""
    c: ClassSession = st.session_state[TEACHER]
    step = lesson.steps[k]
    try:
        if st.session_state.get("class_shown") != (c.code, lesson_index, k):
            store().show(c.code, c.teacher_key, lesson_index, k)
            moved(c.code)
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
        a.download_button("Download the answers (CSV)",  # read from the store on the click, not on every rerun
                          lambda: answers_csv(store().answers(c.code, c.teacher_key)),
                          f"class_{c.code}.csv", "text/csv", icon=":material/download:", key="class_csv")
        if b.button("End the class", icon=":material/logout:", key="class_end",
                    help="Deletes the class and every answer: download them first."):
            store().close(c.code, c.teacher_key)
            moved(c.code)
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
            moved(c.code)
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
            moved(c.code)
            st.rerun(scope="app")
        return
    st.info(step.revealed(measures), icon=":material/straighten:")
    tally_chart(step, measures[step.measure], store().tally(c.code, c.teacher_key, lesson_index, k),
                f"class_tally_{lesson_index}_{k}")
