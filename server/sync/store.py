"""SqlStore: the sync engine's Store protocol on the database, a batch at a time.

One push is one transaction. It starts by taking the sync counter's row lock (`lock()`), so
writers are serialised: the records a batch loads cannot move under it, and the sequence
numbers it takes commit in order, which is what lets a pull cursor never skip a change even when
PostgreSQL commits transactions out of order. Everything is read with one query per table and
written with bulk statements: no query per change. The writes are Core statements on the
tables rather than the ORM's bulk paths, whose per-row bookkeeping cost more than the SQL, and
inserts are multi-row statements (see `insert_rows`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from itertools import chain
from operator import itemgetter

from sqlalchemy import Dialect, Table, bindparam, delete, select, update
from sqlalchemy.orm import Session

from server.db.models import Change, Conflict, Record, RecordGroup, RecordStandard, SyncCounter
from sync import BatchWrites, ChangeKey, ChangeResult, RecordState
from sync import Conflict as MergeConflict

RECORD, CHANGE, CONFLICT = Record.__table__, Change.__table__, Conflict.__table__
CODE_TABLES = ((RecordStandard.__table__, "standards"), (RecordGroup.__table__, "groups"))
# Rows of an executemany UPDATE name the key this way, so that `id` is not also SET.
_KEY = "record_key"


@dataclass(frozen=True)
class Actor:
    """Who is writing: the user, their device (None for console actions) and the batch."""

    user_id: int
    team_id: int | None
    device_id: str | None
    batch_id: str | None
    device_time: str | None
    # A phone's edit sends a reviewed record back for review; a supervisor's own change does not.
    resets_review: bool = True


@dataclass
class _Loaded:
    team_id: int
    officer_id: int
    open_conflicts: int
    review_state: str


def pack_meta(meta: dict[str, dict]) -> list:
    """A record's field stamps as stored: `[[hlc, rev, [field, ...]], ...]`, one entry per
    distinct stamp. A record is mostly written by one change, so this is one entry where the
    per-field form repeated the same stamp for every field (a fifth of the bytes to write)."""
    groups: dict[tuple[str, int], list[str]] = {}
    for name, entry in meta.items():
        groups.setdefault((entry["hlc"], entry["rev"]), []).append(name)
    return [[hlc, rev, names] for (hlc, rev), names in groups.items()]


def unpack_meta(packed: list | dict) -> dict[str, dict]:
    """The engine's per-field form of `pack_meta`'s output (fields sharing an entry object,
    which the engine never mutates). A record stored before stamps were packed is already in
    that form, and is packed when it is next written."""
    if isinstance(packed, dict):
        return packed
    meta = {}
    for hlc, rev, names in packed:
        entry = {"hlc": hlc, "rev": rev}
        for name in names:
            meta[name] = entry
    return meta


def field_stamps(packed: list | dict) -> dict[str, str]:
    """Each field's stamp, as a pull reports them (read straight from the packed form: a pull
    does this for every record it sends)."""
    if isinstance(packed, dict):  # stored before stamps were packed
        return {name: entry["hlc"] for name, entry in packed.items()}
    return {name: hlc for hlc, _rev, names in packed for name in names}


def naive_utc(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value).astimezone(timezone.utc).replace(tzinfo=None)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).replace(tzinfo=None)


def node_of(stamp: str | None) -> str | None:
    return stamp.split("-", 2)[2] if stamp and stamp.count("-") >= 2 else None


def allocate_seqs(session: Session, count: int) -> int:
    """Take `count` sequence numbers; returns the first. Holds the counter lock until commit."""
    last = session.execute(
        update(SyncCounter)
        .where(SyncCounter.id == 1)
        .values(value=SyncCounter.value + count)
        .returning(SyncCounter.value)
    ).scalar_one()
    return last - count + 1


def insert_rows(session: Session, table: Table, rows: list[dict]) -> None:
    """Insert `rows` (dicts with the same keys), each value converted by its column's type.

    SQLite gets multi-row INSERTs. Under an executemany of one-row INSERTs the search index's
    trigger runs in a statement of its own for every row, and FTS5 flushes a new index segment
    each time: one statement halves the cost of a record insert. PostgreSQL gets an executemany
    of the one-row INSERT, which psycopg pipelines (it would parse a statement with thousands
    of placeholders in Python). Both skip SQLAlchemy's per-row parameter bookkeeping, which cost
    more than SQLite spent on the rows, but keep each type's conversion for the dialect (JSON,
    times, booleans).
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    sql_head, marks, columns = _insert_plan(table, tuple(rows[0]), dialect)
    values = _converted(rows, columns)
    if dialect.name != "sqlite":
        connection.exec_driver_sql(sql_head + marks, values)
        return
    per_statement = max(1, dialect.insertmanyvalues_max_parameters // len(columns))
    for start in range(0, len(values), per_statement):
        chunk = values[start:start + per_statement]
        connection.exec_driver_sql(sql_head + ", ".join([marks] * len(chunk)),
                                   tuple(chain.from_iterable(chunk)))


def _converted(rows: list[dict], columns: tuple) -> list[tuple]:
    """Each row's values in `columns` order, converted for the database column by column:
    the loops run in C (itemgetter, zip, map) rather than a Python expression per value."""
    get = itemgetter(*(name for name, _ in columns))
    by_column = zip(*map(get, rows)) if len(columns) > 1 else [[get(row) for row in rows]]
    converted = [column if convert is None else list(map(convert, column))
                 for column, (_, convert) in zip(by_column, columns)]
    return list(zip(*converted))


def update_rows(session: Session, table: Table, rows: list[dict]) -> None:
    """Update rows of `table` by primary key `id`; `rows` are dicts with the same keys.

    SQLite gets one `UPDATE ... FROM (VALUES ...)`, for the reason `insert_rows` gives (the
    search index's update trigger fires for every write, since every write moves `seq`).
    PostgreSQL gets SQLAlchemy's executemany, which psycopg pipelines.
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "sqlite":
        renamed = [{_KEY if name == "id" else name: value for name, value in row.items()}
                   for row in rows]
        session.execute(update(table).where(table.c.id == bindparam(_KEY)), renamed)
        return
    names = tuple(rows[0])
    marks, columns = _values_plan(table, names, dialect)
    quote = dialect.identifier_preparer.quote
    target = quote(table.name)
    sets = ", ".join(f"{quote(name)} = v.column{i}" for i, name in enumerate(names, 1)
                     if name != "id")
    key = f"v.column{names.index('id') + 1}"
    per_statement = max(1, dialect.insertmanyvalues_max_parameters // len(columns))
    for start in range(0, len(rows), per_statement):
        chunk = rows[start:start + per_statement]
        connection.exec_driver_sql(
            f"UPDATE {target} SET {sets} FROM (VALUES {', '.join([marks] * len(chunk))}) AS v "
            f"WHERE {target}.{quote('id')} = {key}",
            tuple(chain.from_iterable(_converted(chunk, columns))),
        )


@lru_cache(maxsize=64)
def _insert_plan(table: Table, names: tuple[str, ...], dialect: Dialect):
    missing = [c.name for c in table.c if c.name not in names and c.default is not None]
    if missing:
        raise ValueError(f"insert_rows into {table.name} must give {', '.join(missing)}")
    quote = dialect.identifier_preparer.quote
    head = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) VALUES ")
    return (head, *_values_plan(table, names, dialect))


@lru_cache(maxsize=64)
def _values_plan(table: Table, names: tuple[str, ...], dialect: Dialect):
    """A row's placeholders, and each column's name and its type's conversion for `dialect`."""
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    marks = "(" + ", ".join([mark] * len(names)) + ")"
    columns = tuple((n, table.c[n].type.dialect_impl(dialect).bind_processor(dialect))
                    for n in names)
    return marks, columns


def lock_writers(session: Session) -> None:
    """Take the counter row lock (PostgreSQL) or the database write lock (SQLite) now."""
    allocate_seqs(session, 0)


def record_columns(fields: dict) -> dict:
    """The searchable, countable columns derived from a record's merged fields."""
    return {
        "occurred_at": naive_utc(fields.get("occurred_at")),
        "kind": fields.get("kind", ""),
        "summary": fields.get("summary", ""),
        "follow_up": fields.get("follow_up", "") or "",
        "place": fields.get("place", "") or "",
        "people_count": fields.get("people_count"),
        "duration_minutes": fields.get("duration_minutes"),
        "publicised_at": naive_utc(fields.get("publicised_at")),
        "contact_role": fields.get("contact_role", "") or "",
        "contact_org": fields.get("contact_org", "") or "",
        "public": bool(fields.get("public", False)),
    }


class SqlStore:
    """The Store protocol for one push (or one console action) by one actor."""

    def __init__(self, session: Session, actor: Actor):
        self.session = session
        self.actor = actor
        self.loaded: dict[str, _Loaded] = {}
        self._states: dict[str, RecordState] = {}

    def lock(self) -> None:
        lock_writers(self.session)

    def seen(self, keys: Collection[ChangeKey]) -> dict[ChangeKey, ChangeResult]:
        # Rejected changes are not "seen": a change re-sent after a fix is judged afresh.
        wanted = set(keys)
        if not wanted:
            return {}
        rows = self.session.execute(
            select(Change.record_id, Change.hlc, Change.status, Change.rev, Change.conflicts)
            .where(Change.record_id.in_({k[0] for k in wanted}))
            .where(Change.hlc.in_({k[1] for k in wanted}))
            .where(Change.status != "rejected")
            .order_by(Change.id)
        ).all()
        found: dict[ChangeKey, ChangeResult] = {}
        for record_id, hlc, status, rev, conflicts in rows:
            key = (record_id, hlc)
            if key in wanted and key not in found:
                found[key] = ChangeResult(
                    record_id, hlc, status, rev, None,
                    [MergeConflict.from_dict(c) for c in conflicts or []],
                )
        return found

    def load(self, ids: Collection[str]) -> dict[str, RecordState]:
        missing = [i for i in ids if i not in self._states]
        if missing:
            rows = self.session.execute(
                select(
                    Record.id, Record.rev, Record.data, Record.meta, Record.deleted,
                    Record.team_id, Record.officer_id, Record.open_conflicts, Record.review_state,
                ).where(Record.id.in_(missing))
            ).all()
            for row in rows:
                self._states[row.id] = RecordState(row.id, row.rev, row.data,
                                                   unpack_meta(row.meta), row.deleted)
                self.loaded[row.id] = _Loaded(
                    row.team_id, row.officer_id, row.open_conflicts, row.review_state
                )
        return {i: self._states[i] for i in ids if i in self._states}

    def save(self, writes: BatchWrites) -> None:
        session, actor = self.session, self.actor
        now = from_ms(writes.changes[0].received_ms) if writes.changes else None
        first_seq = allocate_seqs(session, len(writes.records)) if writes.records else 0
        seq_of: dict[str, int] = {}
        new_conflicts: dict[str, int] = {}
        for c in writes.conflicts:
            new_conflicts[c.record_id] = new_conflicts.get(c.record_id, 0) + 1

        inserts, updates = [], []
        for offset, write in enumerate(writes.records):
            state = write.state
            seq_of[state.id] = first_seq + offset
            row = {
                "id": state.id,
                "rev": state.rev,
                "seq": first_seq + offset,
                "deleted": state.deleted,
                "data": state.fields,
                "meta": pack_meta(state.meta),
                "updated_at": from_ms(write.changed_ms),
                **record_columns(state.fields),
            }
            if write.created:
                row.update(
                    team_id=actor.team_id, officer_id=actor.user_id, device_id=node_of(write.hlc),
                    created_at=row["updated_at"], review_state="pending", review_comment="",
                    open_conflicts=new_conflicts.get(state.id, 0),
                )
                inserts.append(row)
            else:
                if actor.resets_review:
                    row["review_state"] = "pending"
                else:
                    row["review_state"] = self.loaded[state.id].review_state
                row["open_conflicts"] = self.loaded[state.id].open_conflicts + new_conflicts.get(
                    state.id, 0
                )
                updates.append(row)
        insert_rows(session, RECORD, inserts)
        update_rows(session, RECORD, updates)
        self._write_codes(writes)

        if writes.conflicts:
            insert_rows(session, CONFLICT, [
                {
                    "record_id": c.record_id,
                    "field": c.conflict.field,
                    "winner": _side(c.conflict.winner),
                    "loser": _side(c.conflict.loser),
                    "status": "open",
                    "created_at": now,
                }
                for c in writes.conflicts
            ])
        if not writes.changes:
            return
        insert_rows(session, CHANGE, [
            {
                "record_id": entry.change.id if isinstance(entry.change.id, str) else "",
                "op": entry.change.op if entry.change.op in ("upsert", "delete") else "invalid",
                "status": entry.result.status,
                "hlc": entry.change.hlc[:90] if isinstance(entry.change.hlc, str) else None,
                "effective_hlc": entry.effective_hlc,
                "base_rev": entry.change.base_rev if type(entry.change.base_rev) is int else None,
                "rev": entry.result.rev,
                "seq": seq_of.get(entry.change.id) if entry.effective_hlc else None,
                "data": {"fields": entry.changed_fields,
                         "values": entry.change.data if isinstance(entry.change.data, dict) else {}},
                "errors": entry.result.errors,
                "conflicts": [c.to_dict() for c in entry.result.conflicts] or None,
                "user_id": actor.user_id,
                "device_id": actor.device_id,
                "batch_id": actor.batch_id,
                "occurred_at": self._occurred(entry.change.id),
                "device_time": actor.device_time,
                "received_at": from_ms(entry.received_ms),
            }
            for entry in writes.changes
        ])

    def _occurred(self, record_id) -> datetime | None:
        state = self._states.get(record_id)
        return naive_utc(state.fields.get("occurred_at")) if state else None

    def _write_codes(self, writes: BatchWrites) -> None:
        """Keep record_standard and record_group rows equal to each written record's lists."""
        touched = [w.state for w in writes.records]
        for w in writes.records:
            self._states[w.state.id] = w.state
        # A record this batch creates has no rows yet: only edited ones need clearing.
        edited = [w.state.id for w in writes.records if not w.created]
        for table, name in CODE_TABLES:
            if edited:
                self.session.execute(delete(table).where(table.c.record_id.in_(edited)))
            rows = [
                {"record_id": s.id, "code": code}
                for s in touched
                for code in sorted(set(s.fields.get(name) or []))
            ]
            insert_rows(self.session, table, rows)


def _side(side: dict) -> dict:
    """A conflict side with the device that wrote it, read from its stamp."""
    return {"value": side.get("value"), "hlc": side.get("hlc"), "device_id": node_of(side.get("hlc"))}
