"""The commit watermark (server/db/writers.py): a reader never reads past a seq still in
flight, however the writers' commits are ordered."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.db import db
from server.db.writers import PENDING, allocate_seqs, high_water, watermark


@pytest.fixture
def sessions(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite has one writer at a time; every committed seq is safe to read")
        opened: list[Session] = []

        def make() -> Session:
            opened.append(Session(db.engine))
            return opened[-1]

        yield make
        for session in opened:
            session.rollback()
            session.close()


def test_sqlite_reads_every_committed_seq(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite only")
        assert watermark(db.session) is None


def test_a_later_seq_committed_first_is_held_back_until_the_earlier_commits(sessions):
    first, second, reader = sessions(), sessions(), sessions()
    early = allocate_seqs(first, 3)
    late = allocate_seqs(second, 2)
    assert late[0] > early[-1]
    second.commit()  # the later seqs commit first
    assert watermark(reader) == early[0] - 1
    reader.rollback()
    first.commit()
    assert watermark(reader) == high_water(reader) >= late[-1]


def test_a_rolled_back_writer_leaves_a_gap_that_is_passed_over(sessions):
    writer, reader = sessions(), sessions()
    gone = allocate_seqs(writer, 4)
    assert watermark(reader) == gone[0] - 1
    writer.rollback()
    reader.rollback()
    assert watermark(reader) >= gone[-1]


def test_a_writer_between_its_two_statements_holds_every_reader_back(sessions):
    """It has said it is taking seqs but not which: any seq up to the high-water mark may be
    its, so nothing new is safe until it says or ends."""
    committed, writer, reader = sessions(), sessions(), sessions()
    allocate_seqs(committed, 2)
    committed.commit()
    writer.execute(
        sa.text("SELECT pg_advisory_xact_lock_shared(:p, pg_backend_pid())"), {"p": PENDING}
    )
    assert watermark(reader) == 0
    reader.rollback()
    writer.rollback()
    assert watermark(reader) == high_water(reader)
