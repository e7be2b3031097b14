"""The interactive class on the Lessons page, teacher and student as two AppTest sessions sharing one class store
(a fresh SQLite file per test through $DIFFUSION_EXPLORER_CLASS_DB): start, join by the link, follow, answer,
reveal, the class's answers beside the measurement, the CSV, the end; wrong codes and names."""
import csv
import io

import pytest

from test_pages import assert_clean, open_page


@pytest.fixture(autouse=True)
def class_db(tmp_path, monkeypatch):
    monkeypatch.setenv("DIFFUSION_EXPLORER_CLASS_DB", str(tmp_path / "class.db"))


def teacher_with_a_class():
    t = open_page("lessons", lesson=1, step=1)
    t.button(key="class_start").click().run()
    assert_clean(t)
    from explorer.ui.lessons import classroom
    assert "01_noising" in classroom._prepared()  # every step of the lesson computed for the class
    title = [m.value for m in t.markdown if m.value.startswith("### Class code")][0]
    code = title.split("`")[1]
    assert any(c.value.endswith(f"?class={code.replace('-', '')}") for c in t.code)  # the join link as text
    assert t.get("imgs") or t.get("image")  # and as a QR code
    return t, code


def join(code: str, name: str, **params):
    s = open_page("lessons", **{"class": code, **params})
    assert_clean(s)
    s.text_input[1].input(name)
    s.button[0].click().run()  # the form's Join
    return s


def metrics(at) -> dict:
    return {m.label: m.value for m in at.metric}


def test_a_class_follows_the_teacher_answers_and_sees_the_tally_after_the_reveal():
    t, code = teacher_with_a_class()
    odd = "<img src=x onerror=alert(1)> **bold**"
    students = [join(code, odd), join(code, "Bea"), join(code, "Cy")]
    for s in students:
        assert_clean(s)
    assert [x.value for x in students[0].get("text")] == [f"You are in as {odd}."]  # literally, as text
    t.run()
    assert metrics(t)["joined"] == "3"
    t.button(key="lesson_next").click().run()  # step 2 asks a question
    assert metrics(t)["answered this step"] == "0"
    choices = None
    for i, s in enumerate(students):
        s.run()  # (in a browser the fragment reruns the page within a second)
        assert s.radio, "the student sees the teacher's question"
        choices = s.radio[0].options
        s.radio[0].set_value(0 if i < 2 else 1).run()
        [b for b in s.button if (b.key or "").endswith("_send")][0].click().run()
        assert_clean(s)
    s = students[2]  # a changed mind replaces the answer
    s.radio[0].set_value(0).run()
    [b for b in s.button if (b.key or "").endswith("_send")][0].click().run()
    t.run()
    assert metrics(t)["answered this step"] == "3"
    assert not [c for c in t.get("plotly_chart") if c.key.startswith("class_tally")]  # hidden before the reveal
    t.button(key="class_reveal").click().run()
    assert_clean(t)
    import json
    tally = [json.loads(c.proto.spec) for c in t.get("plotly_chart") if c.key.startswith("class_tally")][0]
    bars = tally["data"][0]
    assert list(bars["x"]) == choices and list(bars["y"]) == [3, 0]
    right_share = 1.0 if bars["marker"]["color"][0] == "#009e73" else 0.0
    assert tally["layout"]["title"]["text"] == f"3 answers: {right_share:.0%} right"
    for s in students:
        s.run()
        assert [c for c in s.get("plotly_chart") if c.key.endswith("_tally")]  # the class's answers, after reveal
        assert s.info  # the measurement
    assert any(b.proto.label == "Download the answers (CSV)" for b in t.get("download_button"))
    rows = list(csv.DictReader(io.StringIO(_csv(t, code))))
    assert sorted(r["name"] for r in rows) == sorted([odd, "Bea", "Cy"]) and {r["step"] for r in rows} == {"2"}
    t.button(key="class_end").click().run()
    assert_clean(t)
    s = students[1]
    s.run()
    assert any("has ended" in w.value or "no open class" in w.value for w in s.warning), [w.value for w in s.warning]


def _csv(t, code) -> str:
    """The teacher's CSV as the download button gets it (AppTest cannot fetch a download's bytes)."""
    from explorer.ui.lessons import classroom
    c = t.session_state[classroom.TEACHER]
    return classroom.answers_csv(classroom.store().answers(code, c.teacher_key)).decode()


def test_wrong_codes_are_refused_plainly_and_limited_per_session():
    from explorer.classroom.rules import NOT_A_CODE
    s = open_page("lessons", **{"class": "2222-2222"})
    for i in range(5):
        if i == 4:  # not even a code: said without repeating it
            s.text_input[0].input("[x](y.z)")
        s.text_input[1].input("Ada")
        s.button[0].click().run()
        assert not s.exception
        assert [e.value for e in s.error] == [NOT_A_CODE if i == 4 else "There is no open class with the code "
                                              "2222-2222: it has ended, or the code is mistyped."]
    s.button[0].click().run()
    assert [e.value for e in s.error] == ["Too many wrong codes: wait a minute before trying again."]


def test_a_bad_name_is_refused_with_a_message():
    t, code = teacher_with_a_class()
    s = open_page("lessons", **{"class": code})
    s.button[0].click().run()  # no name
    assert [e.value for e in s.error] == ["Cannot join with that name: The name is empty."]
    s = join(code, "Ada")
    assert [x.value for x in s.get("text")] == ["You are in as Ada."]


def test_answers_are_counted_into_bars_marked_by_the_measurement():
    from explorer.lessons.answers import bars
    from explorer.lessons.course import Predict
    choice = Predict("Above 0.5?", choices=("no", "yes"), bounds=(0.5,))
    assert bars(choice, {"yes": 3, "no": 1}, 0.7) == (["no", "yes"], [1, 3], [False, True], 0.75)
    labels, n, right, share = bars(choice, {}, 0.7)
    assert n == [0, 0] and share != share  # NaN: nobody answered
    number = Predict("How big?", tolerance=0.1)
    assert bars(number, {"1": 2, "1.05": 1, "3": 1}, 1.0) == (["1", "1.05", "3"], [2, 1, 1], [True, True, False], 0.75)
    many = {str(v): 1 for v in range(20)}  # 20 different numbers: 10 ranges of 1.9
    labels, n, right, share = bars(number, many, 10.0)
    assert len(labels) == 10 and sum(n) == 20 and n == [2] * 10
    assert share == 0.15  # 9, 10 and 11 are within 10 % of 10
    assert right == [False] * 5 + [True] + [False] * 4  # only the range 9.5 – 11.4 has its middle (10.45) within
    assert choice.answer_text(1) == "yes" and number.answer_text(2.50) == "2.5"
    assert bars(number, {"1": 2, "lots": 5, "nan": 1}, 1.0) == (["1"], [2], [True], 1.0)  # only numbers count
    assert bars(choice, {"yes": 1, "maybe": 4}, 0.7)[1] == [0, 1]  # only the choices


def test_the_csv_cannot_run_in_a_spreadsheet():
    from explorer.ui.lessons.classroom import answers_csv
    rows = [dict(name="=HYPERLINK(\"http://x\")", lesson=0, step=1, value="-1", at=0.0),
            dict(name="@cmd", lesson=0, step=1, value="-x", at=0.0),
            dict(name="Ada", lesson=0, step=1, value="0.5", at=0.0)]
    text = answers_csv(rows).decode()
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert parsed[0]["name"] == "'=HYPERLINK(\"http://x\")" and parsed[0]["value"] == "-1"  # a number stays one
    assert parsed[1]["name"] == "'@cmd" and parsed[1]["value"] == "'-x"
    assert parsed[2] == {"name": "Ada", "lesson": "1", "step": "2", "value": "0.5", "at": "1970-01-01 00:00:00"}


def test_the_teacher_link_reopens_the_teacher_view_and_is_not_in_the_join_link():
    from explorer.ui.lessons import classroom
    t, code = teacher_with_a_class()
    key = t.session_state[classroom.TEACHER].teacher_key
    s = join(code, "Ada")
    shown = " ".join([m.value for m in s.markdown] + [c.value for c in s.code] + [x.value for x in s.get("text")])
    assert key not in shown and all(key not in c.value for c in t.code)  # not in what the class or projector sees
    t.button(key="class_key_toggle").click().run()  # on request
    link = [c.value for c in t.code if "&teacher=" in c.value]
    assert len(link) == 1 and key not in link[0]  # a single-use token, not the key
    token = link[0].split("&teacher=")[1]
    again = open_page("lessons", **{"class": code, "teacher": token})
    assert_clean(again)
    assert any(m.value == f"### Class code: `{code}`" for m in again.markdown)  # the teacher's panel
    assert "teacher" not in again.query_params and "class" not in again.query_params  # the token left the URL
    assert again.session_state[classroom.TEACHER].teacher_key != key  # a key of its own; the first still works
    t.run()
    assert_clean(t)
    used = open_page("lessons", **{"class": code, "teacher": token})
    assert [e.value for e in used.error] == ["This teacher link is not valid (the class may have ended)."]
    wrong = open_page("lessons", **{"class": code, "teacher": key})  # the key itself is no link
    assert [e.value for e in wrong.error] == ["This teacher link is not valid (the class may have ended)."]
    assert not any(m.value.startswith("### Class code") for m in wrong.markdown)


def test_a_class_in_presenter_mode_is_one_row_with_the_qr_code_on_request():
    t, code = teacher_with_a_class()
    t.query_params["present"] = "1"
    p = open_page("lessons", lesson=1, step=2, present=1)
    from explorer.ui.lessons import classroom
    p.session_state[classroom.TEACHER] = t.session_state[classroom.TEACHER]
    p.run()
    assert_clean(p)
    assert any(m.value == f"**Class `{code}`**" for m in p.markdown)
    assert not any(m.value.startswith("### Class code") for m in p.markdown)  # not the full box
    assert {m.label for m in p.metric} >= {"joined", "answered this step"}


def test_a_reloaded_student_page_is_the_same_student():
    t, code = teacher_with_a_class()
    s = join(code, "Ada")
    me = s.query_params["me"]
    t.button(key="lesson_next").click().run()  # step 2 asks a question
    s.run()
    s.radio[0].set_value(1).run()
    [b for b in s.button if (b.key or "").endswith("_send")][0].click().run()
    again = open_page("lessons", **{"class": code.replace("-", ""), "me": me})  # a new session: the reload
    assert_clean(again)
    sent = f"Sent: {s.radio[0].options[1]}. You can change it until the teacher reveals."
    assert [x.value for x in again.get("text")] == ["You are in as Ada.", sent]  # the answer it sent, not a blank
    t.run()
    assert metrics(t)["joined"] == "1"  # not a second Ada
    stale = open_page("lessons", **{"class": code.replace("-", ""), "me": "not-a-student"})
    assert stale.text_input  # the join form again


def test_two_teacher_devices_do_not_reveal_each_others_steps():
    from explorer.ui.lessons import classroom
    t, code = teacher_with_a_class()
    t.button(key="class_key_toggle").click().run()
    token = [c.value for c in t.code if "&teacher=" in c.value][0].split("&teacher=")[1]
    tablet = open_page("lessons", **{"class": code, "teacher": token})
    tablet.button(key="lesson_next").click().run()  # the tablet moves the class to step 2
    t.run()  # the laptop still shows step 1: it says where the class is and offers no reveal
    assert any("The class is on lesson 1, step 2" in i.value for i in t.info)
    assert not [b for b in t.button if b.key == "class_reveal"]
    t.button(key="class_take_over").click().run()
    assert classroom.store().position(code).step == 0


def test_a_server_reads_a_class_position_at_most_every_quarter_second_and_at_once_after_its_teacher(monkeypatch):
    """Sixty students polling: one database read per POSITION_TTL per server. Another replica's move shows within
    the TTL; a move made through this server (moved()) shows at once."""
    from explorer.classroom.store import ClassStore, default_url
    from explorer.ui.lessons import classroom
    other = ClassStore(default_url())  # another replica, on the same database
    c = other.open()
    other.show(c.code, c.teacher_key, 0, 1)
    clock = [1000.0]
    monkeypatch.setattr(classroom, "_clock", lambda: clock[0])
    assert classroom.position(c.code).step == 1
    other.show(c.code, c.teacher_key, 0, 2)
    clock[0] += classroom.POSITION_TTL / 2
    assert classroom.position(c.code).step == 1  # read a moment ago: not read again
    clock[0] += classroom.POSITION_TTL
    assert classroom.position(c.code).step == 2  # older than the TTL: read again
    other.show(c.code, c.teacher_key, 0, 3)
    classroom.moved(c.code)  # what this server's teacher does
    assert classroom.position(c.code).step == 3
    other.close(c.code, c.teacher_key)
    classroom.moved(c.code)
    with pytest.raises(LookupError):
        classroom.position(c.code)
