"""Scenario "class" of bench.load: a teacher and N students go through one lesson together, as a class does with
the projector and its phones, each a client speaking Streamlit's websocket protocol (bench.load.Session).

The teacher opens the lesson on the Lessons page and clicks *Start a class*; the code is read off the page. Each
student opens the join link (?class=CODE), submits the join form (the code and a name, and the form's submit
button) and from then on behaves as the page in a browser does: it shows every run the server pushes (the
teacher moved on or revealed); where the server cannot push, the page has a `follow` fragment instead, and when
its timer goes off (the interval the server gave in its auto-rerun message) the student sends that fragment's run,
which a missed step turns into a whole-page run. A student
answers each question once after a think time: picks a choice (a rerun) and clicks *Send my answer* (a second
one); the page must then say "Sent: …". The teacher's own counts fragment polls as the browser's would; when it
says every student answered, the teacher clicks *Reveal to the class*, waits until the students' screens show the
reveal, and clicks *Next ▶*.

Measured: the time from the teacher's click (Next, or Reveal) to the end of the run that puts that step (or
that reveal) on each student's screen; answers sent (the page said "Sent") and counted (the teacher's tally
chart after each reveal, "N answers: …"). Through deploy/serve (--deploy 2), the replica the teacher is not on
is killed while the class answers a step in the middle of the lesson; each student on it reconnects through
nginx (a new websocket, the address it had: ?class=…&me=…) and is back when its screen shows the class's step
again; an answer whose "Sent" it never saw it sends again, as a person would.
"""
from __future__ import annotations

import os
import random
import re
import signal
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.exceptions import ConnectionClosed

from bench.common import report, save
from bench.load import Session, rss_mb

LESSON = "08_flows"  # six steps, each with a question
THINK_S = (0.5, 4.0)  # a student answers this long (uniform) after the step reached their screen
WAIT_S = 90.0  # the longest the teacher waits for every answer, or for every screen to show the reveal
BUDGET_S, BACK_WITHIN_S = 2.0, 10.0  # p95 teacher → student's screen; a student back after its replica died
KILL_AT_STEP, KILL_AFTER_S = 3, 1.5  # the replica dies this long after the teacher showed this step (0-based)
DROPPED = (ConnectionError, OSError, ConnectionClosed, TimeoutError)


def lesson():
    from explorer.lessons.course import load_lessons
    from explorer.ui.lessons import catalog

    lessons, _ = load_lessons(catalog.SPECS)
    index = next(i for i, item in enumerate(lessons) if item.name == LESSON)
    return index, lessons[index]


@dataclass
class Board:
    """What the teacher did and when (time.perf_counter), read by the students' threads."""

    step_sent: dict = field(default_factory=dict)  # step -> when the teacher clicked Next to show it
    reveal_sent: dict = field(default_factory=dict)  # step -> when the teacher clicked Reveal
    killed_at: float | None = None
    done: threading.Event = field(default_factory=threading.Event)


@dataclass
class Student:
    """One student's log."""

    step_seen: dict = field(default_factory=dict)  # step -> when their screen first showed it
    reveal_seen: dict = field(default_factory=dict)
    sent: dict = field(default_factory=dict)  # step -> the answer the page said it sent
    back: list = field(default_factory=list)  # (connection lost, screen back) for each reconnection
    failures: list = field(default_factory=list)


def click(tab: Session, key: str, fragment_id: str = ""):
    state = WidgetState(id=tab.widget("button", key=key))
    state.trigger_value = True
    return tab.run(tab.query, [state], fragment_id=fragment_id)


def screen(tab: Session) -> tuple[int | None, bool, str | None]:
    """(step shown, revealed, the answer the page says was sent) from the last whole-page run's texts."""
    text = "\n".join(tab.texts)
    step = re.search(r"step (\d+) of \d+", text)
    sent = re.search(r"^Sent: (.*)\. You can change it", text, re.M)
    revealed = bool(re.search(r"^(You answered |You did not answer)", text, re.M))
    return (int(step[1]) - 1 if step else None), revealed, (sent[1] if sent else None)


def study(url: str, code: str, i: int, lesson_index: int, steps, board: Board, log: Student) -> None:
    """One student, from the join link to the end of the lesson."""
    rng = random.Random(i)
    tab = Session(url, "lessons")
    tab.run(f"class={code}")
    name = WidgetState(id=tab.widget("text_input", label="Your name, as the class will see it"))
    name.string_value = f"student {i + 1}"
    typed = WidgetState(id=tab.widget("text_input", label="Class code"))
    typed.string_value = code
    join = WidgetState(id=tab.widget("button", label="Join"))
    join.trigger_value = True
    tab.run(tab.query, [typed, name, join])
    shown = think_until = None
    next_poll = time.perf_counter() + timer_of(tab)
    while not board.done.is_set():
        try:
            step, revealed, sent = screen(tab)
            now = time.perf_counter()
            if step is not None:
                log.step_seen.setdefault(step, now)
                if revealed:
                    log.reveal_seen.setdefault(step, now)
                if sent is not None:
                    log.sent[step] = sent
                if step != shown:
                    shown, think_until = step, now + rng.uniform(*THINK_S)
                if not revealed and step not in log.sent and now >= think_until:
                    answer(tab, code, lesson_index, step, rng.choice(steps[step].predict.choices))
                    continue
            wake = next_poll
            if step is not None and not revealed and step not in log.sent:
                wake = min(wake, think_until)  # the answer comes before the timer goes off
            if tab.listen(min(max(0.0, wake - now), 0.5)) is None and time.perf_counter() >= next_poll:
                poll(tab)  # the follow fragment's timer went off (a server that cannot push)
                next_poll = time.perf_counter() + timer_of(tab)
        except DROPPED:
            lost = time.perf_counter()
            tab.close_quietly()
            tab = reconnect(url, tab.query, board)
            if tab is None:
                log.failures.append("could not reconnect")
                return
            log.back.append((lost, time.perf_counter()))
            next_poll = time.perf_counter() + timer_of(tab)
        except Exception as err:  # noqa: BLE001 — reported with the results
            log.failures.append(repr(err))
            return
    tab.close_quietly()


def timer_of(tab: Session) -> float:
    """The follow fragment's interval, as the server gave it (auto_rerun); none where the server pushes."""
    return next(reversed(tab.fragments.values()), float("inf"))


def poll(tab: Session) -> None:
    """The follow fragment's timer: a fragment run (which may turn into a whole-page run)."""
    tab.run(tab.query, fragment_id=next(reversed(tab.fragments), ""))


def answer(tab: Session, code: str, lesson_index: int, step: int, choice: str) -> None:
    key = f"class_{code.replace('-', '')}_{lesson_index}_{step}"  # the code as the store keeps it
    pick = WidgetState(id=tab.widget("radio", key=f"{key}_guess"))
    pick.string_value = choice  # a radio sends the option as shown
    tab.values[pick.id] = pick
    tab.run(tab.query)  # the radio button, as the browser sends it
    click(tab, f"{key}_send")


def reconnect(url: str, query: str, board: Board) -> Session | None:
    """A browser reconnecting: a new websocket (nginx picks a live replica), the address the tab had."""
    for attempt in range(40):
        try:
            tab = Session(url, "lessons")
            tab.run(query)
            return tab
        except DROPPED:
            time.sleep(min(0.25 * (attempt + 1), 1.0))
    return None


def counts(tab: Session) -> dict[str, str]:
    return dict(t.split(": ", 1) for t in tab.texts if t.startswith(("joined: ", "answered this step: ")))


def poll_teacher(tab: Session, until, within: float = WAIT_S) -> bool:
    """Run the teacher's counts fragment on its timer until `until(counts)` holds (or `within` seconds pass)."""
    end = time.perf_counter() + within
    fragment = next(reversed(tab.fragments), "")
    while time.perf_counter() < end:
        time.sleep(tab.fragments.get(fragment, 2.0))
        tab.run(tab.query, fragment_id=fragment)
        if until(counts(tab)):
            return True
    return False


def tally_count(tab: Session) -> int:
    """The answers the teacher's tally chart counts ("N answers: …" in its title)."""
    found = [re.search(r"(\d+) answers?: ", spec) for spec in tab.charts]
    return max((int(m[1]) for m in found if m), default=0)


def teach(url: str, n: int, board: Board, kill=None) -> dict:
    """The teacher's side, with the students' threads; returns what was measured."""
    lesson_index, item = lesson()
    steps = item.steps
    teacher = Session(url, "lessons")
    teacher.run(f"mode=lessons&lesson={lesson_index + 1}&step=1")
    on_replica = kill.teacher_replica() if kill else None
    click(teacher, "class_start")
    code = next(m[1] for t in teacher.texts if (m := re.search(r"Class code: `([\w-]+)`", t)))
    logs = [Student() for _ in range(n)]
    threads = [threading.Thread(target=study, args=(url, code, i, lesson_index, steps, board, logs[i]), daemon=True)
               for i in range(n)]
    for t in threads:
        t.start()
    counted, waits = [], []
    joined = poll_teacher(teacher, lambda c: c.get("joined") == str(n))
    for k in range(len(steps)):
        if k > 0:
            board.step_sent[k] = time.perf_counter()
            click(teacher, "lesson_next")
            if kill and k == KILL_AT_STEP:
                time.sleep(KILL_AFTER_S)
                board.killed_at = time.perf_counter()
                kill.kill_other(on_replica)
        t0 = time.perf_counter()
        everyone = poll_teacher(teacher, lambda c: c.get("answered this step") == str(n))
        waits.append((time.perf_counter() - t0, everyone))
        board.reveal_sent[k] = time.perf_counter()
        click(teacher, "class_reveal", fragment_id=next(reversed(teacher.fragments), ""))
        counted.append(tally_count(teacher))
        end = time.perf_counter() + WAIT_S
        while time.perf_counter() < end and sum(k in log.reveal_seen for log in logs) < n:
            time.sleep(0.2)
    board.done.set()
    for t in threads:
        t.join(60)
    click(teacher, "class_end")
    teacher.close_quietly()
    return {"code": code, "joined": joined, "logs": logs, "counted": counted, "waits": waits, "steps": len(steps)}


def p95(values: list[float]) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(0.95 * len(values)) - 1))] if values else float("nan")


def results(out: dict, board: Board, n: int, column: str) -> dict:
    logs, steps = out["logs"], out["steps"]
    to_step = [log.step_seen[k] - board.step_sent[k] for log in logs for k in range(1, steps) if k in log.step_seen]
    to_reveal = [log.reveal_seen[k] - board.reveal_sent[k] for log in logs for k in range(steps)
                 if k in log.reveal_seen]
    missed = (n * (steps - 1) - len(to_step)) + (n * steps - len(to_reveal))
    sent = sum(len(log.sent) for log in logs)
    row = {"to_step_p95": p95(to_step), "to_step_max": max(to_step, default=float("nan")),
           "to_reveal_p95": p95(to_reveal), "sent": sent, "counted": sum(out["counted"]), "expected": n * steps,
           "missed_screens": missed, "failures": [f for log in logs for f in log.failures]}
    report(f"teacher's Next → the step on each student's screen, p95 (of {len(to_step)})", row["to_step_p95"],
           BUDGET_S, column=column)
    report(f"teacher's Reveal → the reveal on each student's screen, p95 (of {len(to_reveal)})",
           row["to_reveal_p95"], BUDGET_S, column=column)
    report("answers sent (the page said so)", sent, n * steps, unit="answers", at_least=True, column=column)
    report("answers counted by the teacher's tallies", row["counted"], n * steps, unit="answers", at_least=True,
           column=column)
    if board.killed_at is not None:
        back = [b - board.killed_at for log in logs for lost, b in log.back if lost >= board.killed_at - 1]
        row["reconnected"], row["back_max"] = len(back), max(back, default=float("nan"))
        report("students whose replica was killed", len(back), unit="students", column=column)
        report("slowest of them back on the class's step, after the kill", row["back_max"], BACK_WITHIN_S,
               column=column)
    return row


def print_row(n: int, row: dict) -> None:
    print(f"class of {n}: step → screens p95 {row['to_step_p95']:.2f} s (max {row['to_step_max']:.2f} s), "
          f"reveal → screens p95 {row['to_reveal_p95']:.2f} s; answers sent {row['sent']}, counted {row['counted']} "
          f"of {row['expected']}; screens that never showed a step or reveal: {row['missed_screens']}"
          + (f"; {row['reconnected']} students reconnected, the slowest back {row['back_max']:.1f} s after the kill"
             if "back_max" in row else "") + (f"; failures: {row['failures'][:3]}" if row["failures"] else ""))


class Killer:
    """Which replica the teacher's websocket reached, and killing another one (deploy/serve restarts it)."""

    def __init__(self, serve_pid: int):
        from bench.live import replica_pids, replica_ports
        self.ports = replica_ports(replica_pids(serve_pid))

    def teacher_replica(self) -> int:
        from bench.live import websocket_replica
        pid = websocket_replica(self.ports)  # the teacher's is the only websocket open yet
        if pid is None:
            raise RuntimeError("cannot tell the teacher's replica from the established connections")
        return pid

    def kill_other(self, teacher_pid: int) -> None:
        os.kill(next(pid for pid in self.ports if pid != teacher_pid), signal.SIGKILL)


def main(ns: list[int], deploy: int | None) -> None:
    """`python -m bench.load --scenario class [--n 60] [--deploy 2]`: a fresh server (and class database) per N."""
    from bench.live import replica_pids, serve_app, serve_deploy

    for n in ns:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["DIFFUSION_EXPLORER_CLASS_DB"] = str(Path(tmp) / "class.db")
            board = Board()
            if deploy:
                with serve_deploy(replicas=deploy) as (url, proc):
                    killer = Killer(proc.pid) if deploy > 1 else None
                    out = teach(url, n, board, killer)
                    rss = rss_mb(lambda: replica_pids(proc.pid))
            else:
                with serve_app(with_process=True) as (url, _, proc):
                    out = teach(url, n, board)
                    rss = rss_mb(proc.pid)
            row = results(out, board, n, f"N = {n}")
            report("server memory at the end of the lesson", rss, unit="MB", column=f"N = {n}")
            print_row(n, row)
    lesson_index, item = lesson()
    where = f"through deploy/serve, {deploy} replicas, one killed mid-lesson" if deploy else "one server"
    save("load_class" + (f"_deploy{deploy}" if deploy else ""),
         note=f"Lesson {lesson_index + 1} ({item.title}), {len(item.steps)} steps, {where}; a fresh server and "
              "class database for each N; students answer 0.5 to 4 s after a step reaches them.")
