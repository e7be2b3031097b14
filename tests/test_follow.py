"""A server's Followers: which student screens are behind their class, and the pushes that bring them up to date."""
import threading
from types import SimpleNamespace

import pytest

from explorer.ui import push
from explorer.ui.lessons.follow import RETRY_S, TRIES, Followers


class Class:
    """A fake class store's positions, a fake push that records whom it reran, and a clock."""

    def __init__(self):
        self.positions = {"AAAA": SimpleNamespace(lesson=0, step=0, revealed=False)}
        self.rerun, self.gone, self.busy, self.broken = [], set(), set(), set()
        self.pushed = threading.Event()
        self.t = 1000.0
        self.on_push = None

    def read(self, code):
        if code in self.broken:
            raise OSError("database is locked")
        if code not in self.positions:
            raise LookupError(f"no class {code}")
        return self.positions[code]

    def push(self, session, page):
        if session in self.gone or page == "another page":
            return push.GONE
        if session in self.busy:
            return push.BUSY
        self.rerun.append(session)
        self.pushed.set()
        if self.on_push:
            self.on_push(session)
        return push.PUSHED

    def move(self, code="AAAA", step=None, revealed=False):
        p = self.positions[code]
        self.positions[code] = SimpleNamespace(lesson=p.lesson, step=p.step if step is None else step,
                                               revealed=revealed)


@pytest.fixture
def world():
    c = Class()
    f = Followers(c.read, c.push, every=3600, clock=lambda: c.t)  # the timer never fires: sweeps are called
    return c, f


def test_only_the_screens_behind_are_rerun_and_each_once_until_their_run_reports(world):
    c, f = world
    f.follow("AAAA", "s1", (0, 0, False))
    f.follow("AAAA", "s2", (0, 0, False))
    assert f.sweep() == 0 and c.rerun == []  # everyone shows the class's step
    c.move(step=1)
    assert f.sweep() == 2 and sorted(c.rerun) == ["s1", "s2"]
    c.t += RETRY_S / 2
    assert f.sweep() == 0 and len(c.rerun) == 2  # pushed: their runs are on the way
    f.follow("AAAA", "s1", (0, 1, False))  # s1's pushed run drew step 1
    f.follow("AAAA", "s2", (0, 1, False))
    c.move(step=1, revealed=True)
    assert f.sweep() == 2 and sorted(c.rerun[2:]) == ["s1", "s2"]  # the next move is pushed at once


def test_a_push_with_no_run_after_it_is_tried_again_then_given_up(world):
    """A push dropped on the way (a run began meanwhile) or a run that drew the old step: pushed again after RETRY_S,
    at most TRIES times, then forgotten (a tab that stopped following and never said so)."""
    c, f = world
    f.follow("AAAA", "s1", (0, 0, False))
    c.move(step=1)
    for i in range(TRIES):
        assert f.sweep() == 1 and len(c.rerun) == i + 1
        c.t += RETRY_S
    assert f.sweep() == 0 and f.count() == 0


def test_a_screen_that_reports_the_old_step_after_its_push_is_pushed_again(world):
    """A run that began before the teacher moved ends after the push: its report resets the screen, so the next
    sweep pushes it without waiting."""
    c, f = world
    f.follow("AAAA", "s1", (0, 0, False))
    c.move(step=1)
    assert f.sweep() == 1
    f.follow("AAAA", "s1", (0, 0, False))
    assert f.sweep() == 1 and c.rerun == ["s1", "s1"]


def test_a_report_made_during_the_sweep_is_kept(world):
    c, f = world
    f.follow("AAAA", "s1", (0, 0, False))
    c.move(step=1)
    c.on_push = lambda s: f.follow("AAAA", s, (0, 1, False))  # the pushed run ends before the sweep does
    assert f.sweep() == 1
    c.on_push = None
    c.t += 10 * RETRY_S
    assert f.sweep() == 0 and f.count() == 1  # up to date: never pushed again, never given up


def test_a_busy_session_is_not_interrupted_and_is_pushed_once_idle(world):
    c, f = world
    f.follow("AAAA", "s1", (0, 0, False))
    c.busy.add("s1")
    c.move(step=1)
    assert f.sweep() == 0 and c.rerun == []
    c.busy.clear()
    assert f.sweep() == 1 and c.rerun == ["s1"]  # the next sweep, without waiting RETRY_S


def test_closed_tabs_other_pages_and_ended_classes_are_forgotten(world):
    c, f = world
    c.positions["BBBB"] = SimpleNamespace(lesson=0, step=0, revealed=False)
    f.follow("AAAA", "s1", (0, 0, False))
    f.follow("AAAA", "s2", (0, 0, False))
    f.follow("AAAA", "s5", (0, 0, False), page="another page")  # went to another page of the app since
    f.follow("BBBB", "s3", (0, 0, False))
    f.follow("BBBB", "s4", (0, 0, False))
    c.gone.add("s2")
    c.move(step=1)
    assert f.sweep() == 1 and c.rerun == ["s1"] and f.count() == 3  # s2 closed, s5 elsewhere: not rerun
    del c.positions["BBBB"]  # the teacher ended class BBBB
    assert f.sweep() == 2 and sorted(c.rerun[1:]) == ["s3", "s4"]  # their pages say the class ended
    assert f.count() == 1


def test_a_class_that_cannot_be_read_does_not_stop_the_others(world):
    c, f = world
    c.positions["BBBB"] = SimpleNamespace(lesson=0, step=0, revealed=False)
    f.follow("BBBB", "s2", (0, 0, False))
    f.follow("AAAA", "s1", (0, 0, False))
    c.broken.add("BBBB")
    c.move(step=1)
    assert f.sweep() == 1 and c.rerun == ["s1"]
    assert f.count() == 2  # BBBB's student is kept for the next sweep


def test_a_session_follows_one_class_and_can_stop(world):
    c, f = world
    c.positions["BBBB"] = SimpleNamespace(lesson=0, step=0, revealed=False)
    f.follow("AAAA", "s1", (0, 0, False))
    f.follow("BBBB", "s1", (0, 0, False))  # joined another class
    assert f.count() == 1
    f.forget("s1")  # left the class's screen
    c.move("BBBB", step=1)
    assert f.count() == 0 and f.sweep() == 0


def test_a_nudge_pushes_at_once_without_waiting_for_the_timer(world):
    c, f = world
    f.follow("AAAA", "s1", (0, 0, False))  # starts the sweeping thread (its timer: an hour)
    c.move(step=2)
    f.nudge()
    assert c.pushed.wait(10), "a nudge did not sweep"
    assert c.rerun == ["s1"]
