"""Keyset pages of records, newest first, and batches for the export.

Pages are ordered by (occurred_at, id), or (created_at, id) when sorted by when the server
received them, and cut with a row-value comparison on that pair, so page 2,000 costs what page 1
costs (no OFFSET) and indexes on (..., occurred_at, id) and (created_at, id) serve both the order
and the cut. A list's count is capped: past COUNT_CAP it says "more than".
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Iterator

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from server.console.query_plan import Conditions
from server.db import db
from server.db.models import Record, Team, User

PAGE_SIZE = 50
COUNT_CAP = 10000  # count matches up to here; past it the page says "more than 10,000"
COUNT_BUDGET_MS = 150  # a count that would take longer is given up: "many records"
WALK_CAP = 5000  # walk-first: the newest records tested before listing the matches instead

Cursor = tuple[datetime, str]
SORTS = {"occurred": Record.occurred_at, "received": Record.created_at}


class CursorError(ValueError):
    """A page cursor that this server did not make."""


def encode_cursor(occurred_at: datetime, record_id: str) -> str:
    return f"{occurred_at:%Y%m%dT%H%M%S.%f}~{record_id}"


def decode_cursor(raw: str) -> Cursor:
    when, _, record_id = raw.partition("~")
    try:
        occurred = datetime.strptime(when, "%Y%m%dT%H%M%S.%f")
    except ValueError as exc:
        raise CursorError("That page link is not valid; showing the newest records.") from exc
    if not record_id or len(record_id) > 36:
        raise CursorError("That page link is not valid; showing the newest records.")
    return occurred, record_id


@dataclass
class Page:
    rows: list
    newer: str | None  # cursor for the page before (newer records)
    older: str | None  # cursor for the page after (older records)


_KEY = sa.tuple_(Record.occurred_at, Record.id)


def _key_value(cursor: Cursor, column=Record.occurred_at):
    return sa.tuple_(sa.literal(cursor[0], column.type), sa.literal(cursor[1]))


def cursor_of(row, sort: str = "occurred") -> str:
    """The cursor that sits at this row (a record or a listed row) in `sort` order."""
    return encode_cursor(getattr(row, SORTS[sort].key), row.id)


def list_columns() -> list:
    return [
        Record.id,
        Record.occurred_at,
        Record.kind,
        Record.summary,
        Record.place,
        Record.review_state,
        Record.reviewed_at,
        Record.created_at,
        Record.open_conflicts,
        Record.deleted,
        Record.pii_confirmed,
        Record.restricted,
        Record.redaction,
        Team.code.label("team_code"),
        User.display_name.label("officer_name"),
    ]


def _rows(
    where: list[ColumnElement],
    probes: list[ColumnElement],
    *,
    after: Cursor | None,
    before: Cursor | None,
    limit: int,
    cap: int | None = None,
    sort: str = "occurred",
) -> list:
    """Up to `limit` rows past the cursor in page order (oldest first when going to newer
    pages). With `cap`, only the first `cap` records that pass `where` are tested with `probes`."""
    forward = before is not None
    column = SORTS[sort]
    key = sa.tuple_(column, Record.id)
    order = (column.asc(), Record.id.asc()) if forward else (column.desc(), Record.id.desc())
    cut = (
        [key > _key_value(before, column)]
        if before is not None
        else [key < _key_value(after, column)]
        if after
        else []
    )
    if cap is None:
        query = sa.select(*list_columns()).where(*where, *cut, *probes)
    else:
        newest = (
            sa.select(Record.id, column.label("key"))
            .where(*where, *cut)
            .order_by(*order)
            .limit(cap)
            .subquery()
        )
        query = (
            sa.select(*list_columns())
            .select_from(newest)
            .join(Record, Record.id == newest.c.id)
            .where(*probes)
        )
        # Ordered by the walk's own columns, the join keeps its order and stops at `limit`
        # instead of testing all `cap` records and sorting them.
        order = (
            (newest.c.key.asc(), newest.c.id.asc())
            if forward
            else (newest.c.key.desc(), newest.c.id.desc())
        )
    query = (
        query.join(Team, Team.id == Record.team_id)
        .join(User, User.id == Record.officer_id)
        .order_by(*order)
        .limit(limit)
    )
    return list(db.session.execute(query))


def fetch_page(
    conditions: Conditions,
    *,
    after: Cursor | None = None,
    before: Cursor | None = None,
    size: int = PAGE_SIZE,
    sort: str = "occurred",
) -> Page:
    """One page newest first; `after` a cursor for older records, `before` for newer ones."""
    rows = None
    if conditions.walk_first:
        # If the newest WALK_CAP records hold a full page of matches, that is the page.
        found = _rows(
            conditions.fixed,
            [s.probe for s in conditions.sets],
            after=after,
            before=before,
            limit=size + 1,
            cap=WALK_CAP,
            sort=sort,
        )
        rows = found if len(found) > size else None
    if rows is None:
        rows = _rows(
            conditions.resolved(), [], after=after, before=before, limit=size + 1, sort=sort
        )
    more = len(rows) > size
    rows = rows[:size]
    if before is not None:
        rows.reverse()
        newer = cursor_of(rows[0], sort) if more and rows else None
        older = cursor_of(rows[-1], sort) if rows else None
        return Page(rows, newer, older)
    older = cursor_of(rows[-1], sort) if more else None
    newer = cursor_of(rows[0], sort) if after is not None and rows else None
    return Page(rows, newer, older)


def count_matches(
    conditions: Conditions, cap: int = COUNT_CAP, budget_ms: int | None = None
) -> tuple[int | None, bool]:
    """(how many records match, whether there are more than `cap`), counting no further; with
    `budget_ms`, (None, True) when counting would take longer than that (a rare combination of
    big filters: the page itself stops after 50 matches, a count cannot)."""
    matching = sa.select(Record.id).where(*conditions.counted()).limit(cap + 1).subquery()
    query = sa.select(sa.func.count()).select_from(matching)
    if budget_ms is None:
        found = db.session.scalar(query) or 0
    else:
        found = time_boxed(query, budget_ms)
        if found is None:
            return None, True
    return min(found, cap), found > cap


def time_boxed(query: sa.Select, budget_ms: int) -> int | None:
    """The query's scalar, or None if it ran past `budget_ms` (then cancelled by the database:
    SQLite's progress handler, PostgreSQL's statement_timeout, inside a savepoint)."""
    session = db.session
    try:
        with session.begin_nested():
            connection = session.connection()
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(
                    f"SET LOCAL statement_timeout = {max(1, int(budget_ms))}"
                )
                found = session.scalar(query) or 0
                # On a timeout the savepoint's rollback undoes the SET; on success, this does.
                connection.exec_driver_sql("SET LOCAL statement_timeout = DEFAULT")
                return found
            raw = connection.connection.dbapi_connection
            deadline = time.perf_counter() + budget_ms / 1000
            raw.set_progress_handler(lambda: int(time.perf_counter() > deadline), 10000)
            try:
                return session.scalar(query) or 0
            finally:
                raw.set_progress_handler(None, 0)
    except sa.exc.OperationalError:
        return None


def iter_records(where: list[ColumnElement], batch: int = 1000) -> Iterator[sa.Row]:
    """Every matching record newest first as plain rows (every column plus team code and officer
    name), fetched in keyset batches so an export of a million rows holds one batch in memory."""
    columns = [
        *Record.__table__.c,
        Team.code.label("team_code"),
        User.display_name.label("officer_name"),
        User.username.label("officer_username"),
    ]
    cursor: Cursor | None = None
    while True:
        query = (
            sa.select(*columns)
            .join(Team, Team.id == Record.team_id)
            .join(User, User.id == Record.officer_id)
            .where(*where)
        )
        if cursor is not None:
            query = query.where(_KEY < _key_value(cursor))
        query = query.order_by(Record.occurred_at.desc(), Record.id.desc()).limit(batch)
        rows = list(db.session.execute(query))
        yield from rows
        if len(rows) < batch:
            return
        cursor = (rows[-1].occurred_at, rows[-1].id)
