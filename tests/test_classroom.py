"""The class store's contract, its rules and its concurrency, on SQLite and on a real PostgreSQL server that the test
starts itself (initdb + postgres as the postgres user, on a free port), skipped only where the binaries are absent."""
import math
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from explorer.classroom.store import (ALPHABET, CODE_LENGTH, IDLE_SECONDS, MAX_NAME, MAX_STUDENTS, MAX_VALUE,
                                      ClassStore, Position, default_url)

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    """A throwaway PostgreSQL cluster: initdb and postgres run as the postgres user (they refuse root)."""
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin")) if Path("/usr/lib/postgresql").is_dir() else []
    if not bins or not (bins[-1] / "initdb").exists():
        pytest.skip("needs Debian's postgresql (initdb, postgres); .ci/run installs it")
    pytest.importorskip("psycopg")
    bin_dir = bins[-1]
    data = Path(tempfile.mkdtemp(prefix="pg-"))
    os.chmod(data, 0o777)
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run([*as_pg, str(bin_dir / "initdb"), "-D", str(data / "db"), "-U", "postgres", "--auth=trust",
                    "-E", "UTF8"], check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen([*as_pg, str(bin_dir / "postgres"), "-D", str(data / "db"), "-p", str(port),
                               "-k", str(data), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    try:
        import psycopg
        for _ in range(100):
            try:
                psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres").close()
                break
            except psycopg.OperationalError:
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        return ClassStore(f"sqlite:///{tmp_path / 'class.db'}")
    return ClassStore(request.getfixturevalue("postgres_url"))


def test_a_lesson_with_a_class(store):
    c = store.open()
    assert len(c.code) == CODE_LENGTH and set(c.code) <= set(ALPHABET)
    assert store.position(c.code) == Position(None, None, False, 0, 0)
    ada, bob = store.join(c.code, "Ada"), store.join(c.code.lower(), " Bob ")  # case and spaces do not matter
    store.show(c.code, c.teacher_key, 3, 2)
    store.answer(c.code, ada, 3, 2, "no")
    store.answer(c.code, ada, 3, 2, "yes")  # a changed mind replaces the first answer
    store.answer(c.code, bob, 3, 2, "yes")
    assert store.position(c.code) == Position(3, 2, False, 2, 2)
    assert (store.mine(c.code, ada, 3, 2), store.mine(c.code, ada, 3, 3)) == ("yes", None)  # each their own
    assert store.tally(c.code, c.teacher_key, 3, 2) == {"yes": 2}
    with pytest.raises(PermissionError):  # the class sees the tally only after the reveal
        store.class_tally(c.code, 3, 2)
    store.reveal(c.code, c.teacher_key)
    assert store.position(c.code).revealed and store.class_tally(c.code, 3, 2) == {"yes": 2}
    with pytest.raises(ValueError, match="revealed"):
        store.answer(c.code, bob, 3, 2, "no")
    store.show(c.code, c.teacher_key, 3, 3)
    assert store.position(c.code) == Position(3, 3, False, 2, 0)
    with pytest.raises(ValueError, match="another step"):
        store.answer(c.code, bob, 3, 2, "no")  # the old step is over
    store.answer(c.code, bob, 3, 3, "0.5")
    store.show(c.code, c.teacher_key, 3, 2)  # going back: that step stays revealed
    assert store.position(c.code).revealed
    assert [(r["name"], r["step"], r["value"]) for r in store.answers(c.code, c.teacher_key)] == [
        ("Ada", 2, "yes"), ("Bob", 2, "yes"), ("Bob", 3, "0.5")]
    assert store.name(c.code, ada) == "Ada"
    store.close(c.code, c.teacher_key)
    for call in (lambda: store.position(c.code), lambda: store.join(c.code, "Cy"),
                 lambda: store.answer(c.code, ada, 3, 2, "x")):
        with pytest.raises(LookupError, match="no open class"):
            call()


def test_the_teacher_key_is_needed_and_a_wrong_one_changes_nothing(store):
    c, other = store.open(), store.open()
    assert len(c.teacher_key) >= 32 and c.teacher_key != other.teacher_key  # 24 random bytes: 192 bits
    store.show(c.code, c.teacher_key, 1, 1)
    for wrong in (other.teacher_key, "", c.teacher_key[:-1], None, 12345):
        for call in (lambda: store.show(c.code, wrong, 2, 2), lambda: store.reveal(c.code, wrong),
                     lambda: store.tally(c.code, wrong, 1, 1), lambda: store.close(c.code, wrong),
                     lambda: store.answers(c.code, wrong)):
            with pytest.raises(PermissionError):
                call()
    assert store.position(c.code) == Position(1, 1, False, 0, 0)  # nothing moved, nothing revealed, not closed


def test_a_teacher_link_token_opens_a_second_teacher_view_once(tmp_path):
    now = [1_000_000.0]
    store = ClassStore(f"sqlite:///{tmp_path / 'c.db'}", clock=lambda: now[0])
    c = store.open()
    token = store.reopen_token(c.code, c.teacher_key)
    assert c.teacher_key not in token
    second = store.reopen(c.code, token)
    assert second.code == c.code and second.teacher_key != c.teacher_key
    store.show(c.code, second.teacher_key, 1, 1)  # both keys act
    store.show(c.code, c.teacher_key, 1, 2)
    with pytest.raises(PermissionError):
        store.reopen(c.code, token)  # used up
    late = store.reopen_token(c.code, c.teacher_key)
    now[0] += 11 * 60
    with pytest.raises(PermissionError):
        store.reopen(c.code, late)  # too old
    with pytest.raises(PermissionError):
        store.reopen_token(c.code, "not the key")
    other = store.open()
    with pytest.raises(PermissionError):
        store.reopen(other.code, store.reopen_token(c.code, c.teacher_key))  # a token of another class
    store.close(c.code, c.teacher_key)
    with pytest.raises(LookupError):
        store.show(c.code, second.teacher_key, 1, 1)


def test_names_and_answers_are_plain_bounded_text(store):
    c = store.open()
    odd = "<img src=x onerror=alert(1)> **bold**"
    sid = store.join(c.code, odd)
    assert store.name(c.code, sid) == odd  # stored as given: the page shows it as text
    for bad in ("", "   ", "x" * (MAX_NAME + 1), "Ada\nBob", "tab\there", "bell\x07", None, 42):
        with pytest.raises(ValueError):
            store.join(c.code, bad)
    store.show(c.code, c.teacher_key, 1, 1)
    for bad in ("", "y" * (MAX_VALUE + 1), "line\nbreak", "\x00", None):
        with pytest.raises(ValueError):
            store.answer(c.code, sid, 1, 1, bad)
    with pytest.raises(LookupError, match="not in this class"):
        store.answer(c.code, "no-such-student", 1, 1, "yes")
    d = store.open()
    with pytest.raises(LookupError, match="not in this class"):  # a student of another class
        store.answer(d.code, sid, 1, 1, "yes")
    for bad in (-1, 1.5, "2", True):
        with pytest.raises(ValueError):
            store.show(c.code, c.teacher_key, bad, 1)
    with pytest.raises(ValueError, match="No step is shown"):
        store.reveal(d.code, d.teacher_key)
    assert store.tally(c.code, c.teacher_key, 1, 1) == {}


def test_codes_are_random_readable_and_wrong_ones_are_refused(store):
    codes = {store.open().code for _ in range(40)}
    c_code = sorted(codes)[0]
    assert len(codes) == 40 and all(set(code) <= set(ALPHABET) for code in codes)
    assert not set("01ILO") & set(ALPHABET)
    assert CODE_LENGTH * math.log2(len(ALPHABET)) >= 30
    for wrong in ("AAAAAAA", "", "K7", None, "[x](http://evil)"):
        with pytest.raises(LookupError) as err:
            store.join(wrong, "Ada")
        assert not wrong or wrong not in str(err.value)  # what was typed is never repeated
    assert store.position(f"{c_code[:4].lower()}-{c_code[4:]}") == store.position(c_code)  # case and dash
    for name in ("Ada\u202eevil", "zero\u200bwidth"):  # direction overrides and invisible characters
        with pytest.raises(ValueError):
            store.join(c_code, name)
    assert store.name(c_code, store.join(c_code, "👨\u200d👩\u200d👧")) == "👨\u200d👩\u200d👧"  # emoji joiners


def test_a_class_is_full_at_its_limit(tmp_path):
    store = ClassStore(f"sqlite:///{tmp_path / 'c.db'}")
    c = store.open()
    from explorer.classroom.store import STUDENTS
    with store.engine.begin() as conn:  # fill it directly: 500 joins one by one would only be slower
        conn.execute(STUDENTS.insert(), [dict(id=f"s{i}", code=c.code, name=f"n{i}", joined=0.0)
                                         for i in range(MAX_STUDENTS)])
    with pytest.raises(ValueError, match="full"):
        store.join(c.code, "one more")


def test_classes_idle_for_twelve_hours_expire(tmp_path):
    now = [1_000_000.0]
    store = ClassStore(f"sqlite:///{tmp_path / 'c.db'}", clock=lambda: now[0])
    busy, idle = store.open(), store.open()
    now[0] += IDLE_SECONDS - 60
    store.show(busy.code, busy.teacher_key, 1, 1)  # activity keeps a class alive
    now[0] += 120
    with pytest.raises(LookupError):
        store.position(idle.code)
    assert store.position(busy.code).lesson == 1
    assert store.expire() == 1  # the idle one is gone from the database


def test_sixty_students_answering_at_once_lose_nothing(store):
    c = store.open()
    ids = [store.join(c.code, f"student {i}") for i in range(60)]
    store.show(c.code, c.teacher_key, 2, 4)
    start, errors = threading.Barrier(60), []

    def answer(i: int, sid: str) -> None:
        try:
            start.wait()
            store.answer(c.code, sid, 2, 4, "first")
            store.answer(c.code, sid, 2, 4, "yes" if i % 3 else "no")  # each changes their mind once
        except Exception as err:  # noqa: BLE001 — any failure is the test's
            errors.append(err)
    threads = [threading.Thread(target=answer, args=(i, sid)) for i, sid in enumerate(ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert store.tally(c.code, c.teacher_key, 2, 4) == {"yes": 40, "no": 20}  # one answer each, the last one
    assert store.position(c.code).answered == 60


def test_replicas_on_one_machine_share_the_sqlite_file(tmp_path):
    """Two stores on one file (two replicas' processes would each hold one): what one writes the other reads."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    a, b = ClassStore(url), ClassStore(url)
    c = a.open()
    sid = b.join(c.code, "Ada")
    a.show(c.code, c.teacher_key, 1, 2)
    b.answer(c.code, sid, 1, 2, "yes")
    assert a.tally(c.code, c.teacher_key, 1, 2) == {"yes": 1}
    with a.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_the_default_database_is_a_file_in_the_data_directory_or_the_environments(tmp_path, monkeypatch):
    monkeypatch.delenv("DIFFUSION_EXPLORER_CLASS_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_url() == f"sqlite:///{tmp_path / 'data' / 'diffusion-explorer' / 'class.db'}"
    monkeypatch.setenv("DIFFUSION_EXPLORER_CLASS_DB", str(tmp_path / "x" / "my.db"))
    assert default_url() == f"sqlite:///{tmp_path / 'x' / 'my.db'}"
    monkeypatch.setenv("DIFFUSION_EXPLORER_CLASS_DB", "postgresql+psycopg://u@h/db")
    assert default_url() == "postgresql+psycopg://u@h/db"
