"""Sequence numbers for writes, and the commit watermark that lets a pull never skip one.

Every write to a record gives it a new, higher `seq`; a pull reads records past a cursor in
seq order, so it must never return a seq while a lower one can still commit.

SQLite has one writer at a time: taking the sync counter row (`lock_writers`) is taking the
database's write lock, so seqs commit in order and every committed seq is safe to read.

PostgreSQL lets writers of different records commit concurrently, in any order. Seqs come from
the sequence `record_seq` (no row lock); a writer holds the lock of the record rows it changes
(`SqlStore.lock`), never a lock every writer needs. A pull reads only up to the *watermark*:
below the oldest seq still in flight. To make that seq visible before the writer commits, the
writer takes two transaction-level advisory locks, which other sessions see in `pg_locks` at
once and which end with its transaction, however it ends (commit, rollback, a dropped
connection):

1. `(PENDING, its backend pid)`, before it takes its seqs;
2. the bigint key `first seq` of the seqs it took, right after.

`watermark` reads the sequence's high-water mark H first, then `pg_locks`. Any seq <= H was
taken before that read, so its writer then already held lock 1: it is still in `pg_locks`, or
its transaction has ended, and PostgreSQL releases a transaction's locks only after its commit
is visible to new snapshots. A writer seen with lock 1 but not yet lock 2 is between two
statements; the reader looks again a moment later. So the watermark is min(H, oldest in-flight
seq - 1), and every seq at or below it is committed (or was rolled back and never exists).
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Collection

from sqlalchemy import Connection, event, select, text, update
from sqlalchemy.orm import Session

from server.db import AnySession
from server.db.models import Record, SyncCounter

SEQUENCE = "record_seq"
_FLOCK = "beatbook_writers_flock"  # Session.info key: (lock file, process queue) held till the end
PENDING = 0x6262_0001  # advisory lock namespace (classid) of "about to take seqs"
# How long a reader waits for a writer between its two lock statements (microseconds apart).
_SETTLE_TRIES, _SETTLE_SECONDS = 50, 0.002

_IN_FLIGHT = text(
    "SELECT pid, classid, objid, objsubid FROM pg_locks "
    "WHERE locktype = 'advisory' AND granted "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND (objsubid = 1 OR (objsubid = 2 AND classid = :pending))"
)


def _postgres(session: AnySession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def allocate_seqs(session: AnySession, count: int) -> list[int]:
    """`count` new sequence numbers, ascending. Seqs are never reused; on PostgreSQL they may
    have gaps (a rolled-back writer's), which a pull passes over."""
    if count <= 0:
        return []
    if not _postgres(session):
        last = session.execute(
            update(SyncCounter)
            .where(SyncCounter.id == 1)
            .values(value=SyncCounter.value + count)
            .returning(SyncCounter.value)
        ).scalar_one()
        return list(range(last - count + 1, last + 1))
    session.execute(
        text("SELECT pg_advisory_xact_lock_shared(:pending, pg_backend_pid())"),
        {"pending": PENDING},
    )
    seqs = sorted(
        session.execute(
            text(f"SELECT nextval('{SEQUENCE}') FROM generate_series(1, :n)"), {"n": count}
        ).scalars()
    )
    session.execute(text("SELECT pg_advisory_xact_lock(:seq)"), {"seq": seqs[0]})
    return seqs


def lock_writers(session: AnySession) -> None:
    """SQLite: take the database write lock now (it is otherwise taken at the first write, after
    reads that must not go stale). PostgreSQL has no lock every writer takes: nothing to do."""
    if not _postgres(session):
        _queue_for_sqlite(session)
        session.execute(
            update(SyncCounter).where(SyncCounter.id == 1).values(value=SyncCounter.value)
        )


def lock_records(session: AnySession, record_ids: Collection[str]) -> None:
    """Take the writers' lock for a write to these records: SQLite's write lock, or on
    PostgreSQL the records' row locks in id order (as a push takes them, so the two never wait
    on each other in a cycle)."""
    if not _postgres(session):
        lock_writers(session)
        return
    ids = sorted(set(record_ids))
    if ids:
        session.execute(
            select(Record.id).where(Record.id.in_(ids)).order_by(Record.id).with_for_update()
        )


def _queue_for_sqlite(session: AnySession) -> None:
    """Wait for the writers' turn on a lock file beside the database, then take its write lock.

    SQLite's own busy handler sleeps between tries (up to 100 ms a sleep), so with 8 phones
    pushing at once most of a push's time went in sleeping after the lock was already free.
    An advisory file lock (flock) is handed to the next waiter as soon as it is released; it is
    tried every millisecond, up to SQLite's own busy timeout, and released when the
    transaction ends (`_release`).

    Threads of one worker first queue on a lock of their own process, which waits without
    the GIL: only its holder tries the file. With every waiting thread trying the file each
    millisecond, the waiters' wake-ups took the GIL from the thread that held the writers' lock
    in the same worker and doubled the machine's system time (8 phones, 2 workers of 4)."""
    if _FLOCK in session.info:
        return
    bind = session.get_bind()
    path = (bind.engine if isinstance(bind, Connection) else bind).url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    wait = _sqlite_wait(session)
    deadline = time.monotonic() + wait
    local = _local_queue(path)
    fd = os.open(f"{path}-writers", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        # Timed out: go on to SQLite's own lock, which answers 503 when it too is busy.
        held = local if local.acquire(timeout=wait) else None
    except BaseException:
        os.close(fd)
        raise
    session.info[_FLOCK] = (fd, held)  # from here `_release` frees both, however it ends
    while held is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                break
            time.sleep(0.001)


_LOCAL_QUEUES: dict[tuple[int, str], threading.Lock] = {}
_LOCAL_QUEUES_GUARD = threading.Lock()


def _local_queue(path: str) -> threading.Lock:
    """This process's queue for the database at `path` (keyed by pid too: a forked worker
    must not inherit a lock its parent held)."""
    key = (os.getpid(), path)
    with _LOCAL_QUEUES_GUARD:
        return _LOCAL_QUEUES.setdefault(key, threading.Lock())


def _sqlite_wait(session: AnySession) -> float:
    from flask import current_app, has_app_context

    return float(current_app.config["SQLITE_BUSY_TIMEOUT"]) if has_app_context() else 30.0


@event.listens_for(Session, "after_transaction_end")
def _release(session: Session, transaction) -> None:
    if transaction.parent is None:
        held = session.info.pop(_FLOCK, None)
        if held is not None:
            fd, local = held
            try:
                os.close(fd)  # closing the file releases its flock
            finally:
                if local is not None:
                    local.release()


def high_water(session: AnySession) -> int:
    """The highest seq ever handed out (committed or not): what a cursor may name."""
    if not _postgres(session):
        value = session.scalar(text("SELECT value FROM sync_counter WHERE id = 1"))
        return int(value or 0)
    last, called = session.execute(text(f"SELECT last_value, is_called FROM {SEQUENCE}")).one()
    return int(last) if called else int(last) - 1


def watermark(session: AnySession) -> int | None:
    """The highest seq a reader may read up to: every seq at or below it is committed or will
    never exist. None on SQLite, where every committed seq is (writers commit in seq order)."""
    if not _postgres(session):
        return None
    top = high_water(session)
    for _ in range(_SETTLE_TRIES):
        pending: set[int] = set()
        first: dict[int, int] = {}
        for pid, classid, objid, objsubid in session.execute(_IN_FLIGHT, {"pending": PENDING}):
            if objsubid == 2:
                pending.add(pid)
            else:
                seq = (int(classid) << 32) | int(objid)
                first[pid] = min(seq, first.get(pid, seq))
        if pending <= first.keys():
            oldest = min(first.values(), default=top + 1)
            return min(top, oldest - 1)
        time.sleep(_SETTLE_SECONDS)
    # A writer stayed between its two statements (a stalled process) and its seqs may be any
    # at or below `top`: nothing is safe to read past the caller's own cursor just now.
    return 0


def install_sequence() -> None:
    """PostgreSQL: the sequence seqs come from (the v1_2_0 migration makes the same)."""
    from server.db import db

    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text(f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE} AS BIGINT"))


def set_high_water(connection, value: int) -> None:
    """Make `value` the last seq handed out (a bench seeding records); a Connection or a
    Session."""
    connection.execute(update(SyncCounter).where(SyncCounter.id == 1).values(value=value))
    # A Session (scoped or not) has get_bind; a Connection is its own bind.
    bind = connection.get_bind() if hasattr(connection, "get_bind") else connection
    if bind.dialect.name == "postgresql":
        connection.execute(text(f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE} AS BIGINT"))
        connection.execute(
            text(f"SELECT setval('{SEQUENCE}', :v, :called)"),
            {"v": max(value, 1), "called": value > 0},
        )
