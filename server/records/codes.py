"""record_standard and record_group: a catch-up index of the codes in each record's data.

A push no longer writes these rows (issue 12): they are derived from `record.data`, and no push
outcome depends on them. Like assessment_fact, they are caught up from `record.seq`: every write
to a record gives it a new, higher seq, so the rows to redo are those of records above the
mark `catch_up_state.seq`. The mark moves only up to the commit watermark
(server/db/writers.py), so no record below it can commit later.

Who catches up: every reader of these tables first (`catch_up()`: the console's standard and
group filters, the public page's groups, assessment facts, the SQLite export), so the reader
who asks never sees them stale; and a worker's indexer thread soon after commits that wrote
records (server/records/indexer.py), so that readers usually find little to do.

How: set-based SQL over a range of seqs, run in the database (json_each on SQLite,
json_array_elements on PostgreSQL), which deletes the rows whose code left the data and
inserts the missing ones. No record is decoded in Python, and an edit that keeps a record's
codes writes nothing here.
"""

from __future__ import annotations

from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from server.db import AnySession, db
from server.db.models import CatchUpState, Record, RecordGroup, RecordStandard
from server.db.writers import lock_writers, watermark

NAME = "codes"  # this index's row in catch_up_state
BATCH = 5000  # records redone per seq range (a long backlog in steps)
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
            step = (
                sa.select(Record.seq)
                .where(Record.seq > state.seq, Record.seq <= top)
                .order_by(Record.seq)
                .limit(BATCH)
                .subquery()
            )
            count, last = session.execute(sa.select(sa.func.count(), sa.func.max(step.c.seq))).one()
            if not count:
                break
            high = last if count == BATCH else top
            rewrite_range(session, state.seq, high)
            done += count
            state.seq = high
        state.seq = max(state.seq, top)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return done


def rewrite_range(session: AnySession, low: int, high: int) -> None:
    """Make the code rows of the records with `low < seq <= high` equal the codes in their
    data. Only the differences are written: the rows of codes still there are neither deleted
    nor inserted again."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # psycopg prepares a statement run five times, and PostgreSQL may then reuse a generic
        # plan made without the bounds: one that hashes a whole code table for a few records.
        session.execute(sa.text("SET LOCAL plan_cache_mode = force_custom_plan"))
    for statement in _statements(dialect):
        session.execute(statement, {"low": low, "high": high})


# The codes in the data of the range's records: the strings in the array `key`. A missing,
# null or non-array value holds none, as does null data (the old `(data or {}).get(key) or
# []`), without an error. SQLite's json_each also walks an object's members and yields a
# scalar itself: only an array's elements have an integer key (one JSON parse, not two with
# json_type). PostgreSQL's json_array_elements fails on a non-array: it gets NULL instead.
_WANT = {
    "sqlite": """
        SELECT r.id AS record_id, j.value AS code
        FROM record AS r, json_each(r.data, '$.{key}') AS j
        WHERE r.seq > :low AND r.seq <= :high
          AND typeof(j.key) = 'integer' AND j.type = 'text'""",
    "postgresql": """
        SELECT r.id AS record_id, e.value #>> '{{}}' AS code
        FROM record AS r, json_array_elements(
            CASE WHEN json_typeof(r.data -> '{key}') = 'array' THEN r.data -> '{key}' END
        ) AS e(value)
        WHERE r.seq > :low AND r.seq <= :high AND json_typeof(e.value) = 'string'""",
}
# The range's rows whose code has left the data. Both databases run NOT EXISTS as a lookup of
# the row's record and a walk of its array; a row-value NOT IN made SQLite's DELETE take
# ~0.5 ms for each row it deleted.
_DELETE = """
    DELETE FROM {table} AS c
    WHERE c.record_id IN (SELECT id FROM record WHERE seq > :low AND seq <= :high)
      AND NOT EXISTS (
        SELECT 1 FROM ({want}) AS w WHERE w.record_id = c.record_id AND w.code = c.code
      )"""
# The codes the range's records lack. NOT EXISTS skips the rows already there for less than
# PostgreSQL's ON CONFLICT path costs; ignoring conflicts still covers a code listed twice.
_MISSING = """
    SELECT w.record_id, w.code FROM ({want}) AS w
    WHERE NOT EXISTS (
        SELECT 1 FROM {table} AS c WHERE c.record_id = w.record_id AND c.code = w.code
    )"""
_INSERT = {
    "sqlite": "INSERT OR IGNORE INTO {table} (record_id, code) {missing}",
    "postgresql": "INSERT INTO {table} (record_id, code) {missing} ON CONFLICT DO NOTHING",
}


@lru_cache
def _statements(dialect: str) -> tuple[sa.TextClause, ...]:
    """For each table, the DELETE of its stale rows and the INSERT of its missing ones."""
    statements = []
    for table, key in TABLES:
        want = _WANT[dialect].format(key=key)
        statements.append(sa.text(_DELETE.format(table=table.name, want=want)))
        missing = _MISSING.format(table=table.name, want=want)
        statements.append(sa.text(_INSERT[dialect].format(table=table.name, missing=missing)))
    return tuple(statements)


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
