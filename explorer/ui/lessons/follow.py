"""How a student's screen follows the teacher: the server pushes each move to it.

Every student's page run tells this server's `Followers` what it shows (`follow`). One thread per server reads the
position of each class its students follow — at once when this server's teacher acts (`nudge`), and every
PUSH_EVERY seconds for a teacher on another replica — and reruns the page of each student whose screen shows
another step (explorer.ui.push). Sixty phones then cost the server sixty page runs when the teacher moves, and
nothing in between. Where the server cannot push (under AppTest, or a Streamlit whose internals moved), a fragment
looks at the store every POLL seconds instead. Not both: with a 5 s timer as well, the fragment's runs crossed the
pushed runs, and in a class of 60 (bench.load --scenario class) 11 of 360 reveals never reached their screen;
with pushes alone, none was missed in seven runs.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

import streamlit as st

from explorer.ui import push

POLL = 0.75  # seconds between a student's own looks at the store, where the server cannot push
PUSH_EVERY = 0.25  # seconds between a server's looks at the positions its students follow
RETRY_S, TRIES = 2.0, 3  # a pushed screen that did not report the new step is pushed again after this, this often
SEEN = "class_seen"  # session key, where the page polls: (lesson, step, revealed) its screen shows
FOLLOWING = "class_following"  # session key: this session's id, while the server pushes a class to it


@dataclass
class _Screen:
    shows: tuple | None  # the (lesson, step, revealed) its last page run drew
    page: str | None  # that run's page (a session on another page since is not rerun)
    pushed_at: float | None = None  # when it was last pushed, with no page run of it since
    tries: int = 0


class Followers:
    """Which sessions of this server show which position of which class; `sweep` reruns those behind."""

    def __init__(self, read: Callable[[str], object], rerun: Callable[..., str] = push.rerun,
                 every: float = PUSH_EVERY, clock: Callable[[], float] = time.monotonic):
        self._read, self._rerun, self.every, self._clock = read, rerun, every, clock
        self._lock = threading.Lock()
        self._screens: dict[str, dict[str, _Screen]] = {}  # code -> session id -> its screen
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def follow(self, code: str, session: str, shows: tuple | None, page: str | None = None) -> None:
        """This session's screen now shows `shows` of class `code` (starts the sweeping thread once)."""
        with self._lock:
            for other, screens in self._screens.items():  # a student in one class at a time
                if other != code:
                    screens.pop(session, None)
            self._screens.setdefault(code, {})[session] = _Screen(shows, page)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="class-followers", daemon=True)
                self._thread.start()

    def forget(self, session: str) -> None:
        """The session no longer follows a class (it left it, or the page it is on shows none)."""
        with self._lock:
            for screens in self._screens.values():
                screens.pop(session, None)

    def nudge(self) -> None:
        """A teacher on this server acted: sweep now, not at the next tick."""
        self._wake.set()

    def sweep(self) -> int:
        """Rerun the page of every session whose screen is behind its class; returns how many were asked to.
        A screen pushed less than RETRY_S ago waits for its run; one pushed TRIES times without a run that follows
        the class, or whose session closed or went to another page, is forgotten. A class that ended is forgotten
        once its students were pushed (their pages say so); one that cannot be read now is tried next time."""
        with self._lock:
            followed = {code: dict(screens) for code, screens in self._screens.items()}
        pushed = 0
        for code, screens in followed.items():
            try:
                pos = self._read(code)
                now = (pos.lesson, pos.step, pos.revealed)
            except LookupError:
                now = None
            except Exception:  # noqa: BLE001 — a database hiccup for one class: the others are still swept
                logging.getLogger(__name__).exception("could not read class %s; trying again next sweep", code)
                continue
            t = self._clock()
            done = {}
            for s, screen in screens.items():
                if screen.shows == now or (screen.pushed_at is not None and t - screen.pushed_at < RETRY_S):
                    continue
                done[s] = self._rerun(s, screen.page) if screen.tries < TRIES else push.GONE
            pushed += sum(r == push.PUSHED for r in done.values())
            with self._lock:
                mine = self._screens.get(code, {})
                for s, result in done.items():
                    if mine.get(s) is not screens[s]:
                        continue  # a page run of it registered meanwhile: that is what it shows
                    if result == push.GONE or (result == push.PUSHED and now is None):
                        mine.pop(s, None)
                    elif result == push.PUSHED:
                        mine[s] = _Screen(screens[s].shows, screens[s].page, t, screens[s].tries + 1)
                if not mine:
                    self._screens.pop(code, None)
        return pushed

    def count(self) -> int:
        with self._lock:
            return sum(len(screens) for screens in self._screens.values())

    def _loop(self) -> None:
        while True:
            self._wake.wait(self.every)
            self._wake.clear()
            try:
                self.sweep()
            except Exception:  # noqa: BLE001 — nothing must end pushes for the server's lifetime
                logging.getLogger(__name__).exception("a class sweep failed; the next one tries again")


_server: Followers | None = None
_server_lock = threading.Lock()


def followers(read: Callable[[str], object]) -> Followers:
    """This server's followers (one per process, made on the first call), reading positions with `read`
    (classroom.position). A plain global, not st.cache_resource: every student's page run asks for it."""
    global _server
    if _server is None:
        with _server_lock:
            if _server is None:
                _server = Followers(read)
    return _server


def shown(pos) -> tuple | None:
    return None if pos is None else (pos.lesson, pos.step, pos.revealed)


def follow(code: str, pos, read: Callable[[str], object]) -> None:
    """On a student's page run that shows `pos`: register for pushes, or where there are none, poll (`read` gives a
    class's position: classroom.position)."""
    session = push.session_id()
    if session is not None and push.available():
        followers(read).follow(code, session, shown(pos), push.page_hash())
        st.session_state[FOLLOWING] = session
    else:
        st.session_state[SEEN] = shown(pos)
        st.fragment(_look, run_every=POLL)(code, read)


def unfollow(read: Callable[[str], object]) -> None:
    """On a Lessons page run that shows no class's screen: if this session followed one, no more pushes."""
    session = st.session_state.pop(FOLLOWING, None)
    if session is not None:
        followers(read).forget(session)


def _look(code: str, read: Callable[[str], object]) -> None:
    """Rerun the page when the teacher moved on or revealed."""
    try:
        now = shown(read(code))
    except LookupError:
        now = None
    if st.session_state.get(SEEN, now) != now:
        st.session_state[SEEN] = now
        st.rerun(scope="app")
