"""The writers' lock: the sync counter row every write takes before it reads what it changes.

Holding it serialises writers, so the sequence numbers they take commit in order and a pull
cursor never skips a change, even where PostgreSQL commits transactions out of order. On SQLite
taking it is taking the database's write lock.
"""

from __future__ import annotations

from sqlalchemy import update

from server.db import AnySession
from server.db.models import SyncCounter


def allocate_seqs(session: AnySession, count: int) -> int:
    """Take `count` sequence numbers; returns the first. Holds the counter lock until commit."""
    last = session.execute(
        update(SyncCounter)
        .where(SyncCounter.id == 1)
        .values(value=SyncCounter.value + count)
        .returning(SyncCounter.value)
    ).scalar_one()
    return last - count + 1


def lock_writers(session: AnySession) -> None:
    """Take the counter row lock (PostgreSQL) or the database write lock (SQLite) now."""
    allocate_seqs(session, 0)
