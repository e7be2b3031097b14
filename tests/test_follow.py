"""A server's Followers: which student screens are behind their class, and the pushes that bring them up to date."""
import threading
from types import SimpleNamespace

import pytest

from explorer.ui.lessons.follow import Followers


class Class:
    """A fake class store's positions and a fake push that records whom it reran."""

    def __init__(self):
        self.positions = {"AAAA": SimpleNamespace(lesson=0, step=0, revealed=False)}
        self.rerun, self.gone = [], set()
        self.pushed = threading.Event()

    def read(self, code):
        if code not in self.positions:
            raise LookupError(f"no class {code}")
        return self.positions[code]

    def push(self, session):
        if session in self.gone:
            return False
        self.rerun.append(session)
        self.pushed.set()
        return True

    def move(self, code="AAAA", step=None, revealed=False):
        p = self.positions[code]
        self.positions[code] = SimpleNamespace(lesson=p.lesson, step=p.step if step is None else step,
                                               revealed=revealed)


@pytest.fixture
def world():
    c = Class()
    f = Followers(c.read, c.push, every=3600)  # the timer never fires here: sweeps are called, or nudged
    return c, f


def test_only_the_screens_behind_are_rerun_and_each_once(world):
    c, f = world
    f.follow("AAAA", "s1", (0, 0, False))
    f.follow("AAAA", "s2", (0, 0, False))
    assert f.sweep() == 0 and c.rerun == []  # everyone shows the class's step
    c.move(step=1)
    assert f.sweep() == 2 and sorted(c.rerun) == ["s1", "s2"]
    assert f.sweep() == 0 and len(c.rerun) == 2  # pushed: not again while their runs are on the way
    f.follow("AAAA", "s1", (0, 1, False))  # s1's pushed run drew step 1
    c.move(revealed=True)
    assert f.sweep() == 2 and sorted(c.rerun[2:]) == ["s1", "s2"]


def test_a_screen_that_drew_an_older_step_after_the_push_is_pushed_again(world):
    """A run that began before the teacher moved registers the old step after the sweep: the next sweep catches it."""
    c, f = world
    f.follow("AAAA", "s1", (0, 0, False))
    c.move(step=1)
    assert f.sweep() == 1
    f.follow("AAAA", "s1", (0, 0, False))  # a run that started before the move ends after the push
    assert f.sweep() == 1 and c.rerun == ["s1", "s1"]


def test_a_closed_tab_is_forgotten_and_an_ended_class_reruns_its_students_once(world):
    c, f = world
    c.positions["BBBB"] = SimpleNamespace(lesson=0, step=0, revealed=False)
    for s, code in (("s1", "AAAA"), ("s2", "AAAA"), ("s3", "BBBB"), ("s4", "BBBB")):
        f.follow(code, s, (0, 0, False))
    c.gone.add("s2")
    c.move(step=1)
    assert f.sweep() == 1 and f.count() == 3  # s2's tab is gone: forgotten, not pushed again
    del c.positions["BBBB"]  # the teacher ended class BBBB
    assert f.sweep() == 2 and {"s3", "s4"} <= set(c.rerun)  # their pages show that the class ended
    assert f.count() == 1 and f.sweep() == 0


def test_a_nudge_pushes_at_once_without_waiting_for_the_timer(world):
    c, f = world
    f.follow("AAAA", "s1", (0, 0, False))  # starts the sweeping thread (its timer: an hour)
    c.move(step=2)
    f.nudge()
    assert c.pushed.wait(10), "a nudge did not sweep"
    assert c.rerun == ["s1"]
