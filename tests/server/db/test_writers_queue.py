"""SQLite's writers queue on a lock file (server/db/writers.py): held from the writers' lock to
the end of the transaction, however it ends, and handed on at once."""

from __future__ import annotations

import fcntl
import os
import threading
import time

import pytest
from sqlalchemy.orm import Session

from server.db import db
from server.db.writers import _FLOCK, lock_writers


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
            with app.app_context():
                session = Session(db.engine)
                lock_writers(session)
                waited.append(time.monotonic())
                session.commit()
                session.close()

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
