"""How a student's screen follows the teacher: the server pushes each move to it.

Every student's page run tells this server's `Followers` what it shows (`follow`). One thread per server reads the
position of each class its students follow — at once when this server's teacher acts (`nudge`), and every
PUSH_EVERY seconds for a teacher on another replica — and reruns the page of each student whose screen shows
another step (explorer.ui.push). Sixty phones then cost the server sixty page runs when the teacher moves, and
nothing in between. Where the server cannot push (under AppTest, or a Streamlit whose internals moved), a fragment
looks at the store every POLL seconds instead. Not both: with a 5 s timer as well, the fragment's runs crossed the
pushed runs, and in a class of 60 (bench.load --scenario class) 11 of 360 reveals never reached their screen;
with pushes alone, none was missed in four runs.
"""
from __future__ import annotations

import threading
from typing import Callable

import streamlit as st

from explorer.ui import push

POLL = 0.75  # seconds between a student's own looks at the store, where the server cannot push
PUSH_EVERY = 0.25  # seconds between a server's looks at the positions its students follow
SEEN = "class_seen"  # session key: (lesson, step, revealed) the student's screen shows


class Followers:
    """Which sessions of this server show which position of which class; `sweep` reruns those behind."""

    def __init__(self, read: Callable[[str], object], rerun: Callable[[str], bool] = push.rerun,
                 every: float = PUSH_EVERY):
        self._read, self._rerun, self.every = read, rerun, every
        self._lock = threading.Lock()
        self._shows: dict[str, dict[str, tuple]] = {}  # code -> session id -> the position its screen shows
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def follow(self, code: str, session: str, shows: tuple | None) -> None:
        """This session's screen now shows `shows` of class `code` (starts the sweeping thread once)."""
        with self._lock:
            self._shows.setdefault(code, {})[session] = shows
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="class-followers", daemon=True)
                self._thread.start()

    def nudge(self) -> None:
        """A teacher on this server acted: sweep now, not at the next tick."""
        self._wake.set()

    def sweep(self) -> int:
        """Rerun the page of every session whose screen is behind its class; returns how many were asked to.
        A session that is gone is forgotten, and so is a class that ended (its students are rerun to show that)."""
        with self._lock:
            followed = {code: dict(sessions) for code, sessions in self._shows.items()}
        pushed = 0
        for code, sessions in followed.items():
            try:
                pos = self._read(code)
                now = (pos.lesson, pos.step, pos.revealed)
            except LookupError:
                now = None
            behind = [s for s, shows in sessions.items() if shows != now]
            gone = [s for s in behind if not self._rerun(s)]
            pushed += len(behind) - len(gone)
            with self._lock:
                mine = self._shows.get(code, {})
                for s in behind:
                    if s in gone or now is None:
                        mine.pop(s, None)
                    elif mine.get(s) == sessions[s]:  # not rerun since: it will show `now`
                        mine[s] = now
                if not mine:
                    self._shows.pop(code, None)
        return pushed

    def count(self) -> int:
        with self._lock:
            return sum(len(sessions) for sessions in self._shows.values())

    def _loop(self) -> None:
        while True:
            self._wake.wait(self.every)
            self._wake.clear()
            try:
                self.sweep()
            except Exception:  # noqa: BLE001 — a database hiccup must not end pushes for the server's lifetime
                import logging
                logging.getLogger(__name__).exception("a class sweep failed; the next one tries again")


@st.cache_resource(show_spinner=False)
def followers(_read: Callable[[str], object]) -> Followers:
    """This server's followers (one per process), reading positions with _read (classroom.position)."""
    return Followers(_read)


def shown(pos) -> tuple | None:
    return None if pos is None else (pos.lesson, pos.step, pos.revealed)


def follow(code: str, pos, read: Callable[[str], object]) -> None:
    """On a student's page run that shows `pos`: register for pushes, or where there are none, poll (`read` gives a
    class's position: classroom.position)."""
    st.session_state[SEEN] = shown(pos)
    session = push.session_id()
    if session is not None and push.available():
        followers(read).follow(code, session, shown(pos))
    else:
        st.fragment(_look, run_every=POLL)(code, read)


def _look(code: str, read: Callable[[str], object]) -> None:
    """Rerun the page when the teacher moved on or revealed."""
    try:
        now = shown(read(code))
    except LookupError:
        now = None
    if st.session_state.get(SEEN, now) != now:
        st.session_state[SEEN] = now
        st.rerun(scope="app")
