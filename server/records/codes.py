"""record_standard and record_group: a catch-up index of the codes in each record's data.

A push no longer writes these rows (issue 12): they are derived from `record.data`, and no push
outcome depends on them. Like assessment_fact, they are caught up from `record.seq`: every write
to a record gives it a new, higher seq, so the rows to redo are those of records above the
mark `catch_up_state.seq`. The mark moves only up to the commit watermark
(server/db/writers.py), so no record below it can commit later.

Who catches up: every reader of these tables first (`catch_up()`: the console's standard and
group filters, the public page's groups, assessment facts, the SQLite export), so the reader
who asks never sees them stale; and a worker's indexer thread right after each commit that
wrote records (server/records/indexer.py), so that readers usually find nothing to do.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from server.db import AnySession, db
from server.db.bulk import insert_rows
from server.db.models import CatchUpState, Record, RecordGroup, RecordStandard
from server.db.writers import lock_writers, watermark

NAME = "codes"  # this index's row in catch_up_state
BATCH = 5000  # records read and rewritten per statement group (a long backlog in steps)
TABLES = ((RecordStandard.__table__, "standards"), (RecordGroup.__table__, "groups"))


def pending(session: AnySession | None = None) -> tuple[int, int]:
    """(mark, top): the seq the rows reflect, and the highest seq they may catch up to now."""
    session = session or db.session
    top, mark = session.execute(
        sa.select(
            sa.select(sa.func.max(Record.seq)).scalar_subquery(),
            sa.select(CatchUpState.seq).where(CatchUpState.name == NAME).scalar_subquery(),
        )
    ).one()
    top, mark = top or 0, mark or 0
    bound = watermark(session)
    if bound is not None:  # PostgreSQL: never past a write still in flight
        top = min(top, bound)
    return mark, top


def catch_up(session: AnySession | None = None) -> int:
    """Bring the code rows up to date; returns how many records were redone.

    Cheap when nothing changed (two indexed lookups in one query, no lock). Otherwise it takes
    the state row (PostgreSQL) or the database write lock (SQLite) and reads the work again
    under it, so two callers never redo the same records, and commits.
    """
    session = session or db.session
    mark, top = pending(session)
    if top <= mark:
        return 0
    done = 0
    try:
        state = _state(session)
        mark, top = pending(session)  # under the lock: another caller may have caught up
        while state.seq < top:
            rows = session.execute(
                sa.select(Record.id, Record.seq, Record.data)
                .where(Record.seq > state.seq, Record.seq <= top)
                .order_by(Record.seq)
                .limit(BATCH)
            ).all()
            if not rows:
                break
            rewrite(session, {row.id: row.data for row in rows})
            done += len(rows)
            state.seq = rows[-1].seq if len(rows) == BATCH else top
        state.seq = max(state.seq, top)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return done


def rewrite(session: AnySession, data_of: dict[str, dict]) -> None:
    """Make each record's code rows equal to the codes in its data: only the differences are
    written, so an edit that leaves a record's codes alone writes nothing here."""
    ids = sorted(data_of)
    for table, name in TABLES:
        have: dict[str, set[str]] = {}
        for start in range(0, len(ids), 500):
            for record_id, code in session.execute(
                sa.select(table.c.record_id, table.c.code).where(
                    table.c.record_id.in_(ids[start : start + 500])
                )
            ):
                have.setdefault(record_id, set()).add(code)
        gone: list[tuple[str, str]] = []
        new: list[dict[str, str]] = []
        for record_id in ids:
            want = set((data_of[record_id] or {}).get(name) or [])
            held = have.get(record_id, set())
            gone.extend((record_id, code) for code in held - want)
            new.extend({"record_id": record_id, "code": code} for code in sorted(want - held))
        for record_id, code in gone:
            session.execute(
                sa.delete(table).where(table.c.record_id == record_id, table.c.code == code)
            )
        insert_rows(session, table, new)


def _state(session: AnySession) -> CatchUpState:
    """The state row, locked until commit (SQLite: the write lock, taken first; see
    server/assessment/facts.py `_state` for why)."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        lock_writers(session)
    locked = sa.select(CatchUpState).where(CatchUpState.name == NAME).with_for_update()
    state = session.execute(locked).scalar_one_or_none()
    if state is None:  # a new database: two first callers at once insert one row between them
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        session.execute(insert(CatchUpState).values(name=NAME, seq=0).on_conflict_do_nothing())
        state = session.execute(locked).scalar_one()
    return state
