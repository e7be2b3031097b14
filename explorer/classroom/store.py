"""The class store: a teacher's class, its students and their answers, in one schema over SQLAlchemy Core, so the
same parameterised queries run on SQLite (the embedded default, in WAL mode: the replicas of one machine share the
file) and on PostgreSQL (replicas on several machines).

    store = ClassStore()                       # SQLite in the user's data directory, or $DIFFUSION_EXPLORER_CLASS_DB
    c = store.open()                           # c.code, 7 symbols read aloud; c.teacher_key, 192 random bits
    sid = store.join(c.code, "Ada")
    store.show(c.code, c.teacher_key, 3, 2)    # lesson 3, step 2: what the class sees
    store.answer(c.code, sid, 3, 2, "yes")     # replaces Ada's earlier answer to that step
    store.reveal(c.code, c.teacher_key)        # the step takes no more answers; its tally may be shown
    store.tally(c.code, c.teacher_key, 3, 2)   # {"yes": 1}
    store.close(c.code, c.teacher_key)         # the class, its students and answers are deleted

store.reopen_token(code, key) makes a single-use teacher link token; store.reopen(code, token) gives the device that
opens it a teacher key of its own. A wrong teacher key raises PermissionError and changes nothing; an unknown, closed or expired class (idle for
IDLE_SECONDS) LookupError; a bad name or answer, an answer to another step or after the reveal ValueError.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import create_engine, delete, event, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from .schema import ANSWERS, CLASSES, KEYS, META, REOPENS, REVEALS, STUDENTS  # noqa: F401 (STUDENTS: tests)
from .rules import (ALPHABET, CODE_LENGTH, IDLE_SECONDS, REOPEN_SECONDS, MAX_NAME, MAX_STUDENTS, MAX_VALUE,  # noqa: F401
                    check_text, default_url, normalise_code, shown_code)

@dataclass(frozen=True)
class ClassSession:
    code: str
    teacher_key: str


@dataclass(frozen=True)
class Position:
    """Where the class is: the step the teacher shows (None before the first), whether it is revealed, how many
    students joined and how many answered that step."""
    lesson: int | None
    step: int | None
    revealed: bool
    joined: int
    answered: int


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ClassStore:
    """The classes of one database (see the module's docstring). `clock` gives the time in seconds (tests move it)."""

    def __init__(self, url: str | None = None, clock=time.time):
        self.url = url or default_url()
        self.clock = clock
        self.engine = self._engine(self.url)
        META.create_all(self.engine)

    @staticmethod
    def _engine(url: str):
        if not url.startswith("sqlite"):
            return create_engine(url, pool_pre_ping=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):
            dbapi_connection.isolation_level = None  # transactions begin where this module says (below)
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers do not wait for the writer; replicas share the file
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection):  # a write takes the lock at the start: a read-then-write never meets a newer write;
            # a read (the students' polling) does not queue for it (WAL: it reads the last committed state)
            connection.exec_driver_sql("BEGIN" if connection.get_execution_options().get("read") else "BEGIN IMMEDIATE")
        return engine

    def _read(self):
        """A connection for a read-only transaction: `with self._read() as conn, conn.begin():`."""
        return self.engine.connect().execution_options(read=True)

    # --- the rules every call goes through ----------------------------------------------------------------------
    def _class(self, conn, code, lock: bool = False):
        code = normalise_code(code)
        query = select(CLASSES).where(CLASSES.c.code == code)
        if lock and self.engine.dialect.name == "postgresql":
            query = query.with_for_update()  # one writer a class at a time (SQLite: BEGIN IMMEDIATE does it)
        row = conn.execute(query).first()
        if row is None or row.touched < self.clock() - IDLE_SECONDS:
            raise LookupError(f"There is no open class with the code {shown_code(code)}: it has ended, or the code "
                              "is mistyped.")
        return row

    def _teacher(self, conn, code, key):
        row = self._class(conn, code, lock=True)
        given = _hash(key) if isinstance(key, str) else ""
        hashes = [r.key_hash for r in conn.execute(select(KEYS.c.key_hash).where(KEYS.c.code == row.code))]
        if not any([hmac.compare_digest(given, h) for h in hashes]):  # every one compared, in constant time
            raise PermissionError("That is not this class's teacher key.")
        return row

    def _touch(self, conn, code: str) -> None:
        conn.execute(update(CLASSES).where(CLASSES.c.code == code).values(touched=self.clock()))

    @staticmethod
    def _revealed(conn, code: str, lesson, step) -> bool:
        if lesson is None:
            return False
        return conn.execute(select(REVEALS.c.code).where(REVEALS.c.code == code, REVEALS.c.lesson == lesson,
                                                         REVEALS.c.step == step)).first() is not None

    # --- the teacher ------------------------------------------------------------------------------------------
    def open(self) -> ClassSession:
        """A new class with a random code and teacher key; classes idle for IDLE_SECONDS are deleted first."""
        self.expire()
        key = secrets.token_urlsafe(24)
        now = self.clock()
        for _ in range(8):
            code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
            try:
                with self.engine.begin() as conn:
                    conn.execute(insert(CLASSES).values(code=code, created=now, touched=now))
                    conn.execute(insert(KEYS).values(key_hash=_hash(key), code=code))
                return ClassSession(code, key)
            except IntegrityError:  # that code is taken: draw again
                continue
        raise RuntimeError("Could not find a free class code.")

    def show(self, code, teacher_key, lesson: int, step: int) -> None:
        """The class now sees this lesson's step."""
        for name, v in (("lesson", lesson), ("step", step)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"The {name} must be a whole number ≥ 0; got {v!r}.")
        with self.engine.begin() as conn:
            row = self._teacher(conn, code, teacher_key)
            conn.execute(update(CLASSES).where(CLASSES.c.code == row.code).values(
                lesson=lesson, step=step, touched=self.clock()))

    def reveal(self, code, teacher_key) -> None:
        """The current step's answers are revealed: it takes no more, and everyone may see its tally."""
        with self.engine.begin() as conn:
            row = self._teacher(conn, code, teacher_key)
            if row.lesson is None:
                raise ValueError("No step is shown yet: show one before revealing it.")
            if not self._revealed(conn, row.code, row.lesson, row.step):
                conn.execute(insert(REVEALS).values(code=row.code, lesson=row.lesson, step=row.step))
            self._touch(conn, row.code)

    def reopen_token(self, code, teacher_key) -> str:
        """A single-use token for a teacher link that opens the teacher's view on another device, valid for
        REOPEN_SECONDS: the link never carries the key itself (addresses stay in browser histories and logs)."""
        token = secrets.token_urlsafe(24)
        with self.engine.begin() as conn:
            row = self._teacher(conn, code, teacher_key)
            conn.execute(delete(REOPENS).where(REOPENS.c.expires < self.clock()))
            conn.execute(insert(REOPENS).values(token_hash=_hash(token), code=row.code,
                                                expires=self.clock() + REOPEN_SECONDS))
        return token

    def reopen(self, code, token) -> ClassSession:
        """Use a teacher link's token (once): a new teacher key of the class for this device. PermissionError for a
        token that is wrong, used or expired."""
        with self.engine.begin() as conn:
            row = self._class(conn, code, lock=True)
            found = conn.execute(delete(REOPENS).where(
                REOPENS.c.token_hash == (_hash(token) if isinstance(token, str) else ""), REOPENS.c.code == row.code,
                REOPENS.c.expires >= self.clock()))
            if found.rowcount != 1:
                raise PermissionError("That teacher link is not valid: it may have been used or be too old.")
            key = secrets.token_urlsafe(24)
            conn.execute(insert(KEYS).values(key_hash=_hash(key), code=row.code))
            self._touch(conn, row.code)
        return ClassSession(row.code, key)

    def tally(self, code, teacher_key, lesson: int, step: int) -> dict[str, int]:
        """{answer: how many students gave it} for a step, for the teacher (also before the reveal)."""
        with self.engine.begin() as conn:
            row = self._teacher(conn, code, teacher_key)
            return self._tally(conn, row.code, lesson, step)

    def answers(self, code, teacher_key) -> list[dict]:
        """Every answer of the class (name, lesson, step, value, at), for the teacher's CSV."""
        with self.engine.begin() as conn:
            row = self._teacher(conn, code, teacher_key)
            rows = conn.execute(select(STUDENTS.c.name, ANSWERS.c.lesson, ANSWERS.c.step, ANSWERS.c.value,
                                       ANSWERS.c.at).join(STUDENTS, STUDENTS.c.id == ANSWERS.c.student)
                                .where(ANSWERS.c.code == row.code)
                                .order_by(ANSWERS.c.lesson, ANSWERS.c.step, STUDENTS.c.name, ANSWERS.c.at))
            return [dict(r._mapping) for r in rows]

    def close(self, code, teacher_key) -> None:
        """End the class: its students, reveals and answers are deleted with it."""
        with self.engine.begin() as conn:
            row = self._teacher(conn, code, teacher_key)
            self._delete(conn, [row.code])

    def expire(self) -> int:
        """Delete the classes idle for IDLE_SECONDS; how many."""
        idle = select(CLASSES.c.code).where(CLASSES.c.touched < self.clock() - IDLE_SECONDS)
        with self.engine.begin() as conn:
            n = conn.scalar(select(func.count()).select_from(idle.subquery()))
            self._delete(conn, idle)
        return int(n)

    @staticmethod
    def _delete(conn, codes) -> None:
        """Delete the classes `codes` (a list, or a query of codes) with their students, reveals and answers."""
        for table in (ANSWERS, REVEALS, STUDENTS, KEYS, REOPENS, CLASSES):
            conn.execute(delete(table).where(table.c.code.in_(codes)))

    # --- the students -----------------------------------------------------------------------------------------
    def join(self, code, name) -> str:
        """A new student of the class under a display name; their id (kept by their browser session)."""
        name = check_text(name, MAX_NAME, "name")
        with self.engine.begin() as conn:
            row = self._class(conn, code, lock=True)
            joined = conn.scalar(select(func.count()).select_from(STUDENTS).where(STUDENTS.c.code == row.code))
            if joined >= MAX_STUDENTS:
                raise ValueError(f"This class is full: it has its {MAX_STUDENTS} students.")
            student = secrets.token_urlsafe(16)
            conn.execute(insert(STUDENTS).values(id=student, code=row.code, name=name, joined=self.clock()))
            self._touch(conn, row.code)
        return student

    def position(self, code) -> Position:
        """What the class sees now, and how many joined and answered it."""
        with self._read() as conn, conn.begin():
            row = self._class(conn, code)
            joined = conn.scalar(select(func.count()).select_from(STUDENTS).where(STUDENTS.c.code == row.code))
            answered = 0 if row.lesson is None else conn.scalar(
                select(func.count()).select_from(ANSWERS).where(ANSWERS.c.code == row.code,
                                                                ANSWERS.c.lesson == row.lesson,
                                                                ANSWERS.c.step == row.step))
            return Position(row.lesson, row.step, self._revealed(conn, row.code, row.lesson, row.step),
                            int(joined), int(answered))

    def name(self, code, student: str) -> str:
        """A student's display name; LookupError if the id is not one of this class's."""
        with self._read() as conn, conn.begin():
            row = self._class(conn, code)
            found = conn.scalar(select(STUDENTS.c.name).where(STUDENTS.c.id == student, STUDENTS.c.code == row.code))
        if found is None:
            raise LookupError("You are not in this class (it may have been restarted): join again.")
        return found

    def answer(self, code, student: str, lesson: int, step: int, value) -> None:
        """The student's answer to the step the class is on, replacing their earlier one, until it is revealed."""
        value = check_text(value, MAX_VALUE, "answer")
        with self.engine.begin() as conn:
            row = self._class(conn, code, lock=True)
            if not isinstance(student, str) or conn.scalar(select(STUDENTS.c.id).where(
                    STUDENTS.c.id == student, STUDENTS.c.code == row.code)) is None:
                raise LookupError("You are not in this class (it may have been restarted): join again.")
            if (lesson, step) != (row.lesson, row.step):
                raise ValueError("The class has moved to another step: answer the one shown now.")
            if self._revealed(conn, row.code, lesson, step):
                raise ValueError("This step is revealed: it takes no more answers.")
            values = dict(student=student, lesson=lesson, step=step, code=row.code, value=value, at=self.clock())
            if self.engine.dialect.name == "postgresql":
                from sqlalchemy.dialects.postgresql import insert as upsert
            else:
                from sqlalchemy.dialects.sqlite import insert as upsert
            statement = upsert(ANSWERS).values(**values)
            conn.execute(statement.on_conflict_do_update(index_elements=["student", "lesson", "step"],
                                                         set_={"value": statement.excluded.value,
                                                               "at": statement.excluded.at}))
            self._touch(conn, row.code)

    def mine(self, code, student: str, lesson: int, step: int) -> str | None:
        """The student's own answer to a step (None before they answer): their page shows it after a reload too."""
        with self._read() as conn, conn.begin():
            row = self._class(conn, code)
            return conn.scalar(select(ANSWERS.c.value).where(ANSWERS.c.code == row.code, ANSWERS.c.student == student,
                                                             ANSWERS.c.lesson == lesson, ANSWERS.c.step == step))

    def class_tally(self, code, lesson: int, step: int) -> dict[str, int]:
        """The tally of a revealed step, for everyone in the class; PermissionError before the reveal."""
        with self._read() as conn, conn.begin():
            row = self._class(conn, code)
            if not self._revealed(conn, row.code, lesson, step):
                raise PermissionError("The class's answers show once the teacher reveals the step.")
            return self._tally(conn, row.code, lesson, step)

    @staticmethod
    def _tally(conn, code: str, lesson: int, step: int) -> dict[str, int]:
        rows = conn.execute(select(ANSWERS.c.value, func.count()).where(
            ANSWERS.c.code == code, ANSWERS.c.lesson == lesson, ANSWERS.c.step == step).group_by(ANSWERS.c.value))
        return {value: int(n) for value, n in rows}
