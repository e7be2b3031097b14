"""The server pushes a class's step to its students (explorer.ui.push reaches into Streamlit's runtime: this test
fails when a Streamlit upgrade moves what it uses). A live server and protocol-level tabs (bench.load.Session)."""
import re

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState

from bench.live import serve_app
from bench.load import Session
from bench.load_class import click, lesson, screen

pytestmark = pytest.mark.slow
WAIT_S = 30.0  # generous: what is tested is that the run comes unasked (its speed is bench.load's class scenario)


def join(url: str, code: str, name: str) -> Session:
    tab = Session(url, "lessons")
    tab.run(f"class={code}")
    states = []
    for label, value in (("Class code", code), ("Your name, as the class will see it", name)):
        state = WidgetState(id=tab.widget("text_input", label=label))
        state.string_value = value
        states.append(state)
    go = WidgetState(id=tab.widget("button", label="Join"))
    go.trigger_value = True
    tab.run(tab.query, [*states, go])
    return tab


def test_the_teachers_next_and_reveal_reach_the_students_screens_without_their_asking(tmp_path):
    with serve_app(env={"DIFFUSION_EXPLORER_CLASS_DB": str(tmp_path / "class.db")}) as (url, _):
        index, item = lesson()
        teacher = Session(url, "lessons")
        students = []
        try:
            teacher.run(f"mode=lessons&lesson={index + 1}&step=1")
            click(teacher, "class_start")
            code = next(m[1] for t in teacher.texts if (m := re.search(r"Class code: `([\w-]+)`", t)))
            students = [join(url, code, f"student {i}") for i in range(3)]
            for tab in students:
                assert screen(tab)[:2] == (0, False)
                assert tab.fragments == {}  # the server pushes: no timer of the page's own asks the server

            click(teacher, "lesson_next")
            for tab in students:  # nothing sent by the student: the run comes from the server
                run = tab.listen(WAIT_S)
                assert run is not None and run.status == 0 and run.exceptions == 0, "no run came unasked"
                assert screen(tab)[:2] == (1, False)  # the Lessons page (its page hash kept), as this student
                assert any(t == f"You are in as student {students.index(tab)}." for t in tab.texts)
            click(teacher, "class_reveal", fragment_id=next(reversed(teacher.fragments), ""))
            for tab in students:
                assert tab.listen(WAIT_S) is not None
                assert screen(tab)[:2] == (1, True)
            click(teacher, "class_end")
            for tab in students:
                assert tab.listen(WAIT_S) is not None
                assert any("There is no open class" in t for t in tab.texts), tab.texts
        finally:
            for tab in [teacher, *students]:
                tab.close_quietly()
