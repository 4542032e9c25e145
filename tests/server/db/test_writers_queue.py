"""SQLite's writers queue on a lock file (server/db/writers.py): held from the writers' lock to
the end of the transaction, however it ends, and handed on at once."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable
from types import SimpleNamespace

import pytest
from sqlalchemy.orm import Session

from server.db import db, writers
from server.db.writers import _FLOCK, _local_queue, lock_writers


@pytest.fixture
def lock_file(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("PostgreSQL writers lock rows, not the database")
        yield f"{db.engine.url.database}-writers"


def _free(path: str) -> bool:
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


@pytest.mark.parametrize("end", ["commit", "rollback", "close"])
def test_the_lock_file_is_held_until_the_transaction_ends(app, lock_file, end):
    with app.app_context():
        session = Session(db.engine)
        lock_writers(session)
        assert session.info[_FLOCK] is not None and not _free(lock_file)
        getattr(session, end)()
        assert _FLOCK not in session.info and _free(lock_file)
        session.close()


def test_a_waiting_writer_gets_the_lock_as_soon_as_it_is_released(app, lock_file):
    with app.app_context():
        first = Session(db.engine)
        lock_writers(first)
        waited: list[float] = []

        def second_writer():
            _write(app, lambda session: waited.append(time.monotonic()))

        thread = threading.Thread(target=second_writer)
        thread.start()
        time.sleep(0.3)
        assert not waited  # still queued behind the first writer
        released = time.monotonic()
        first.commit()
        thread.join()
        first.close()
        # Handed on within milliseconds, not after one of SQLite's sleeps of up to 100 ms
        # (a loaded machine may delay the waiting thread; 50 ms is still under one such sleep).
        assert waited and 0 <= waited[0] - released < 0.05


def test_threads_of_one_worker_take_the_lock_one_at_a_time_and_hand_it_on(app, lock_file):
    holding: list[int] = []
    most: list[int] = []
    done: list[int] = []

    def hold(n: int) -> None:
        holding.append(n)
        most.append(len(holding))
        time.sleep(0.02)
        holding.remove(n)

    def writer(n: int) -> None:
        _write(app, lambda session: hold(n))
        done.append(n)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(done) == list(range(6)) and max(most) == 1
    assert _free(lock_file) and not _process_queue(app).locked()


def test_a_writer_past_the_wait_goes_on_to_sqlites_own_lock_and_frees_the_queue(app, lock_file):
    with app.app_context():
        first = Session(db.engine)
        lock_writers(first)
        outcome: list[object] = []

        def late_writer():
            try:  # the queue's wait passes; SQLite's own lock waits on
                _write(app, lambda session: outcome.append(session.info[_FLOCK][1]))
            except Exception as exc:  # noqa: BLE001 - the test reports what it was
                outcome.append(exc)

        app.config["SQLITE_BUSY_TIMEOUT"] = 0.1
        thread = threading.Thread(target=late_writer)
        thread.start()
        time.sleep(1.0)  # well past the queue's wait of 0.1 s, even on a loaded machine
        first.commit()
        first.close()
        thread.join()
    # It got SQLite's lock once the first committed, without the process queue, and left it free.
    assert outcome == [None]
    assert _free(lock_file) and not _process_queue(app).locked()


def test_only_one_waiting_thread_of_a_worker_polls_the_lock_file(app, lock_file, monkeypatch):
    pollers: list[int] = []

    def flock(fd: int, operation: int) -> None:
        pollers.append(threading.get_ident())
        fcntl.flock(fd, operation)

    fake = SimpleNamespace(flock=flock, LOCK_EX=fcntl.LOCK_EX, LOCK_NB=fcntl.LOCK_NB)
    monkeypatch.setattr(writers, "fcntl", fake)
    other_worker = os.open(lock_file, os.O_RDWR | os.O_CREAT)  # another worker holds the file
    fcntl.flock(other_worker, fcntl.LOCK_EX)

    threads = [threading.Thread(target=_write, args=(app,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    while_held = set(pollers)
    os.close(other_worker)
    for thread in threads:
        thread.join()
    # Four threads waited; one of them tried the file (each tried it every millisecond before),
    # and each then had its turn.
    assert len(while_held) == 1 and len(set(pollers)) == 4
    assert _free(lock_file) and not _process_queue(app).locked()


def _write(app, while_held: Callable[[Session], object] = lambda session: None) -> None:
    """One writer in a session of its own: take the writers' lock, `while_held`, commit."""
    with app.app_context():
        session = Session(db.engine)
        try:
            lock_writers(session)
            while_held(session)
            session.commit()
        finally:
            session.close()


def _process_queue(app) -> threading.Lock:
    with app.app_context():
        return _local_queue(db.engine.url.database)
