"""SqlStore: the sync engine's Store protocol on the database, a batch at a time.

One push is one transaction. It starts by taking the writers' lock (`lock()`): on SQLite the
database's write lock, on PostgreSQL the rows of the records it touches, so the records a batch
loads cannot move under it. Sequence numbers and the watermark that keeps a pull cursor from
skipping one are server/db/writers.py's. Everything is read with one query per table and
written with bulk statements: no query per change. The writes are Core statements on the
tables rather than the ORM's bulk paths, whose per-row bookkeeping cost more than the SQL, and
inserts are multi-row statements (see `insert_rows`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, cast

from marshmallow.fields import Boolean, String
from sqlalchemy import CursorResult, select, update

from schema.records import AwareDateTime, EngagementSchema
from server.clock import from_ms, naive_utc
from server.db import AnySession
from server.db.bulk import Converted, among, convert_rows, insert_rows, update_rows
from server.db.models import (
    Change,
    Conflict,
    Device,
    Record,
    Team,
    User,
)
from server.db.writers import allocate_seqs, lock_records, lock_writers, watermark
from server.records.indexer import WROTE_RECORDS
from server.sync.stamps import field_stamps, pack_meta, unpack_meta
from sync import (
    BatchWrites,
    ChangeKey,
    ChangeResult,
    OpenConflict,
    Owner,
    PulledRecord,
    PullPage,
    RecordState,
    Review,
    Scope,
    StaleWriteError,
)
from sync import Conflict as MergeConflict

RECORD, CHANGE, CONFLICT = Record.__table__, Change.__table__, Conflict.__table__
_WAS = "rev_was"  # a row's expected rev before an update: checked, not SET


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
    # Data protection (server/records/redaction.py): fields whose text was removed for good,
    # and whether the record is restricted.
    sealed: frozenset[str] = frozenset()
    restricted: bool = False


def node_of(stamp: str | None) -> str | None:
    return stamp.split("-", 2)[2] if stamp and stamp.count("-") >= 2 else None


def _column_reader(field) -> Callable[[object], object]:
    """How a record field's value becomes its column's value."""
    if isinstance(field, AwareDateTime):
        return naive_utc  # type: ignore[return-value]
    if isinstance(field, Boolean):
        return lambda value: bool(value or False)
    if isinstance(field, String):
        return lambda value: value or ""
    return lambda value: value


# The record fields that are also columns of `record` (for search, filters and counts), each
# with its conversion: derived from the schema and the table, so a new field needs neither.
RECORD_COLUMNS = tuple(
    (name, _column_reader(field))
    for name, field in EngagementSchema._declared_fields.items()
    if name in Record.__table__.c
)


def record_columns(fields: dict) -> dict:
    """The searchable, countable columns derived from a record's merged fields."""
    get = fields.get
    return {name: read(get(name)) for name, read in RECORD_COLUMNS}


class SqlStore:
    """The Store protocol for one push (or one console action) by one actor."""

    def __init__(self, session: AnySession, actor: Actor | None = None, deferred: bool = False):
        """`actor` is who writes; a Store that only pulls needs none.

        `deferred`: a push's judging before the writers' lock (docs/sync-protocol.md, "Inside
        and outside the lock"). It reads without locking and `save` only prepares the rows;
        under the lock, `confirm` checks that nothing it read has moved, and `write_deferred`
        writes them.
        """
        self.session = session
        self.actor = actor
        self.deferred = deferred
        self._loaded: dict[str, _Loaded] = {}
        self._states: dict[str, RecordState] = {}
        # What a deferred judgement rested on: the seen answer, and each asked-for record's
        # version (None: it did not exist).
        self._seen_read: tuple[list[ChangeKey], dict[ChangeKey, ChangeResult]] | None = None
        self._versions: dict[str, tuple | None] = {}
        self._pending: _Plan | None = None

    def lock(self, record_ids: Collection[str] = ()) -> None:
        """Take the writers' lock for a save that touches `record_ids` (docs/sync-protocol.md,
        "Inside and outside the lock").

        SQLite: the database write lock. PostgreSQL: the row locks of the actor's device (so a
        replayed batch is judged after the first copy committed) and of the records, in id
        order so that two batches never wait on each other in a cycle; `load` locks any other
        record it reads. Writers of other records and other devices go on meanwhile.
        """
        if not self._postgres:
            lock_writers(self.session)
            return
        actor = self.actor
        if actor is not None and actor.device_id is not None:
            self.session.execute(
                select(Device.id).where(Device.id == actor.device_id).with_for_update()
            )
        lock_records(self.session, record_ids)

    @property
    def _postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    def seen(self, keys: Collection[ChangeKey]) -> dict[ChangeKey, ChangeResult]:
        found = self._seen(keys)
        if self.deferred:
            self._seen_read = (list(keys), found)
        return found

    def _seen(self, keys: Collection[ChangeKey]) -> dict[ChangeKey, ChangeResult]:
        # Rejected changes are not "seen": a change re-sent after a fix is judged afresh.
        wanted = set(keys)
        if not wanted:
            return {}
        rows = self.session.execute(
            select(Change.record_id, Change.hlc, Change.status, Change.rev, Change.conflicts)
            .where(among(self.session, Change.record_id, {k[0] for k in wanted}))
            .where(among(self.session, Change.hlc, {k[1] for k in wanted}))
            .where(Change.status != "rejected")
            .order_by(Change.id)
        ).all()
        found: dict[ChangeKey, ChangeResult] = {}
        for record_id, hlc, status, rev, conflicts in rows:
            key = (record_id, hlc)
            if key in wanted and key not in found:
                found[key] = ChangeResult(
                    record_id,
                    hlc,
                    status,
                    rev,
                    None,
                    [MergeConflict.from_dict(c) for c in conflicts or []],
                )
        return found

    def load(self, ids: Collection[str]) -> dict[str, RecordState]:
        missing = [i for i in ids if i not in self._states]
        if missing:
            query = select(*_VERSION, Record.data, Record.meta, Record.deleted).where(
                among(self.session, Record.id, missing)
            )
            if self.actor is not None and self._postgres and not self.deferred:
                # A writer holds what it loaded until it commits (rows `lock` took stay held).
                query = query.order_by(Record.id).with_for_update()
            rows = self.session.execute(query).all()
            for row in rows:
                self._states[row.id] = RecordState(
                    row.id, row.rev, row.data, unpack_meta(row.meta), row.deleted
                )
                self._loaded[row.id] = _Loaded(
                    row.team_id,
                    row.officer_id,
                    row.open_conflicts,
                    row.review_state,
                    frozenset(row.redaction["fields"]) if row.redaction else frozenset(),
                    row.restricted,
                )
            if self.deferred:
                self._versions.update(dict.fromkeys(missing))
                self._versions.update((row.id, _version(row)) for row in rows)
        return {i: self._states[i] for i in ids if i in self._states}

    def confirm(self) -> bool:
        """Under the writers' lock: whether everything a deferred judgement read is still so
        (the same changes seen, and every record it asked for at the same version, or still
        absent). If so its outcome is the one judging now would give."""
        if self._seen_read is not None:
            keys, found = self._seen_read
            if self._seen(keys) != found:
                return False
        now: dict[str, tuple | None] = dict.fromkeys(self._versions)
        rows = self.session.execute(
            select(*_VERSION).where(among(self.session, Record.id, list(self._versions)))
        )
        now.update((row.id, _version(row)) for row in rows)
        return now == self._versions

    def write_deferred(self) -> None:
        """Write what a deferred `save` prepared (after `confirm`, under the writers' lock)."""
        if self._pending is None:
            raise TypeError("nothing was saved to write")
        plan, self._pending = self._pending, None
        self._execute(plan)

    def owner(self, record_id: str) -> Owner | None:
        loaded = self._loaded.get(record_id)
        return Owner(loaded.officer_id, loaded.team_id) if loaded else None

    def sealed(self, record_id: str) -> frozenset[str]:
        """The fields of a loaded record whose text was removed for good (none if not loaded)."""
        loaded = self._loaded.get(record_id)
        return loaded.sealed if loaded else frozenset()

    def restricted(self, record_id: str) -> bool:
        loaded = self._loaded.get(record_id)
        return bool(loaded and loaded.restricted)

    def save(self, writes: BatchWrites) -> None:
        plan = self._plan(writes)
        if self.deferred:
            self._pending = plan
            return
        self._execute(plan)

    def _plan(self, writes: BatchWrites) -> _Plan:
        """Every row the save writes, but for the sequence numbers: building them needs no
        lock, so a deferred save builds them before it."""
        touched = writes.touched()
        created = {w.state.id for w in writes.records if w.created}
        for record_id in touched:
            if record_id not in self._states and record_id not in created:
                raise StaleWriteError(f"record {record_id} was not loaded before the save")
        inserts, updates = self._record_rows(writes)
        for write in writes.records:  # later steps read the states as written
            self._states[write.state.id] = write.state
        log, log_ids = self._log_rows(writes)
        dialect = self.session.get_bind().dialect
        return _Plan(
            writes,
            touched,
            convert_rows(dialect, RECORD, inserts),
            updates,
            convert_rows(dialect, CHANGE, log),
            log_ids,
        )

    def _execute(self, plan: _Plan) -> None:
        writes = plan.writes
        seq_of = dict(zip(plan.touched, allocate_seqs(self.session, len(plan.touched))))
        if plan.inserts.values:
            ids = plan.inserts.names.index("id")
            plan.inserts.put("seq", [seq_of[row[ids]] for row in plan.inserts.values])
        for row in plan.updates:
            row["seq"] = seq_of[row["id"]]
        plan.log.put("seq", [seq_of.get(i) if i is not None else None for i in plan.log_ids])
        self._write_records(writes, plan, seq_of)
        self.session.info[WROTE_RECORDS] = True  # the indexer thread catches up after commit
        self._write_conflicts(writes)
        self._write_reviews(writes, seq_of)
        self._close_conflicts(writes, seq_of)
        insert_rows(self.session, CHANGE, plan.log)

    def _record_rows(self, writes: BatchWrites) -> tuple[list[dict], list[dict]]:
        """The rows of the records the batch writes: (inserts, updates), seq still to come."""
        actor = self._writer()
        delta = _conflict_delta(writes)
        inserts, updates = [], []
        for write in writes.records:
            state = write.state
            row = {
                "id": state.id,
                "rev": state.rev,
                "seq": None,
                "deleted": state.deleted,
                "data": state.fields,
                "meta": pack_meta(state.meta),
                "updated_at": from_ms(write.changed_ms),
                **record_columns(state.fields),
            }
            if write.created:
                row.update(
                    team_id=actor.team_id,
                    officer_id=actor.user_id,
                    device_id=actor.device_id,
                    created_at=row["updated_at"],
                    review_state="pending",
                    review_comment="",
                    open_conflicts=delta.get(state.id, 0),
                    restricted=False,
                )
                inserts.append(row)
            else:
                loaded = self._loaded[state.id]
                row["review_state"] = "pending" if actor.resets_review else loaded.review_state
                row["open_conflicts"] = loaded.open_conflicts + delta.get(state.id, 0)
                row[_WAS] = write.previous_rev
                updates.append(row)
        return inserts, updates

    def _write_records(self, writes: BatchWrites, plan: _Plan, seq_of: dict[str, int]) -> None:
        insert_rows(self.session, RECORD, plan.inserts)
        if update_rows(self.session, RECORD, plan.updates, guard=("rev", _WAS)) != len(
            plan.updates
        ):
            raise StaleWriteError("a record moved since the batch loaded it")
        # Records the batch touched without writing them (a review, a kept value's closing)
        # still move: phones see them on their next pull.
        delta = _conflict_delta(writes)
        written = {w.state.id for w in writes.records}
        for record_id, seq in seq_of.items():
            if record_id in written:
                continue
            values: dict = {"seq": seq}
            if delta.get(record_id):
                values["open_conflicts"] = self._loaded[record_id].open_conflicts + delta[record_id]
            self.session.execute(update(RECORD).where(RECORD.c.id == record_id).values(values))

    def _write_conflicts(self, writes: BatchWrites) -> None:
        if not writes.conflicts:
            return
        now = from_ms(writes.changes[0].received_ms) if writes.changes else None
        insert_rows(
            self.session,
            CONFLICT,
            [
                {
                    "record_id": c.record_id,
                    "field": c.conflict.field,
                    "winner": _side(c.conflict.winner),
                    "loser": _side(c.conflict.loser),
                    "status": "open",
                    "created_at": now,
                }
                for c in writes.conflicts
            ],
        )

    def _write_reviews(self, writes: BatchWrites, seq_of: dict[str, int]) -> None:
        for review in writes.reviews:
            at = from_ms(review.at_ms)
            self.session.execute(
                update(RECORD)
                .where(RECORD.c.id == review.record_id)
                .values(
                    review_state=review.state,
                    review_comment=review.comment,
                    reviewed_by_id=review.reviewer,
                    reviewed_at=at,
                    updated_at=at,
                )
            )
            state = self._states[review.record_id]
            insert_rows(
                self.session,
                CHANGE,
                [
                    {
                        "record_id": review.record_id,
                        "op": "review",
                        "status": "applied",
                        "rev": state.rev,
                        "seq": seq_of[review.record_id],
                        "data": {
                            "fields": ["review"],
                            "values": {"state": review.state, "comment": review.comment},
                        },
                        "user_id": review.reviewer,
                        "occurred_at": self._occurred(review.record_id),
                        "received_at": at,
                    }
                ],
            )

    def _close_conflicts(self, writes: BatchWrites, seq_of: dict[str, int]) -> None:
        revs = {w.state.id: w.state.rev for w in writes.records}
        for r in writes.resolutions:
            rev = revs.get(r.record_id, self._states[r.record_id].rev)
            # Session.execute is typed as returning Result; an UPDATE gives a CursorResult.
            closed = cast(
                CursorResult[Any],
                self.session.execute(
                    update(CONFLICT)
                    .where(
                        CONFLICT.c.id == r.conflict_id,
                        CONFLICT.c.record_id == r.record_id,
                        CONFLICT.c.status == "open",
                    )
                    .values(
                        status="resolved",
                        resolved_by_id=r.by,
                        resolved_at=from_ms(r.at_ms),
                        resolution={"value": r.value, "hlc": r.hlc, "rev": rev},
                    )
                ),
            )
            if closed.rowcount != 1:
                raise StaleWriteError(f"conflict {r.conflict_id} is not open")

    def _logged_values(self, change) -> dict:
        """What a change sent, as the log keeps it: never a value for a field whose text was
        removed for good, whatever the change's outcome (a refused change is logged too)."""
        data = change.data if isinstance(change.data, dict) else {}
        sealed = self.sealed(change.id) if isinstance(change.id, str) else frozenset()
        return {k: v for k, v in data.items() if k not in sealed} if sealed else data

    def _log_rows(self, writes: BatchWrites) -> tuple[list[dict], list[str | None]]:
        """The change log's rows, and for each the record whose seq it takes (None: none)."""
        rows: list[dict] = []
        ids: list[str | None] = []
        if not writes.changes:
            return rows, ids
        actor = self._writer()
        for entry in writes.changes:
            record_id = entry.change.id if isinstance(entry.change.id, str) else ""
            ids.append(record_id if entry.effective_hlc else None)
            rows.append(
                {
                    "record_id": record_id,
                    "op": entry.change.op if entry.change.op in ("upsert", "delete") else "invalid",
                    "status": entry.result.status,
                    "hlc": entry.change.hlc[:90] if isinstance(entry.change.hlc, str) else None,
                    "effective_hlc": entry.effective_hlc,
                    "base_rev": _int32(entry.change.base_rev),
                    "rev": entry.result.rev,
                    "seq": None,
                    "data": {
                        "fields": entry.changed_fields,
                        "values": self._logged_values(entry.change),
                    },
                    "errors": entry.result.errors,
                    "conflicts": [c.to_dict() for c in entry.result.conflicts] or None,
                    "user_id": actor.user_id,
                    "device_id": actor.device_id,
                    "batch_id": actor.batch_id,
                    "occurred_at": self._occurred(entry.change.id),
                    "device_time": actor.device_time,
                    "received_at": from_ms(entry.received_ms),
                }
            )
        return rows, ids

    def _writer(self) -> Actor:
        if self.actor is None:
            raise TypeError("this SqlStore was made to pull; give it an Actor to write")
        return self.actor

    def _occurred(self, record_id) -> datetime | None:
        state = self._states.get(record_id)
        return naive_utc(state.fields.get("occurred_at")) if state else None

    def pull(self, after: int, limit: int, scope: Scope) -> PullPage:
        # PostgreSQL commits writers out of seq order: read only below the oldest in flight.
        bound = watermark(self.session)
        if bound is not None and bound <= after:
            return PullPage([], after, False)
        query = (
            select(*PULL_COLUMNS)
            .join(User, Record.officer_id == User.id)
            .join(Team, Record.team_id == Team.id)
            .where(Record.seq > after)
            .order_by(Record.seq)
            .limit(limit + 1)
        )
        if bound is not None:
            query = query.where(Record.seq <= bound)
        if scope.team_ids is not None:
            query = query.where(
                Record.team_id.in_(scope.team_ids) | (Record.officer_id == scope.officer_id)
            )
        rows = self.session.execute(query).all()
        more = len(rows) > limit
        rows = rows[:limit]
        conflicts = self._open_conflicts([row.id for row in rows])
        records = [_pulled(row, conflicts.get(row.id, [])) for row in rows]
        return PullPage(records, rows[-1].seq if rows else after, more)

    def _open_conflicts(self, ids: list[str]) -> dict[str, list[OpenConflict]]:
        found: dict[str, list[OpenConflict]] = {}
        if not ids:
            return found
        for c in self.session.execute(
            select(Conflict.id, Conflict.record_id, Conflict.field, Conflict.winner, Conflict.loser)
            .where(Conflict.record_id.in_(ids), Conflict.status == "open")
            .order_by(Conflict.id)
        ):
            found.setdefault(c.record_id, []).append(OpenConflict(c.id, c.field, c.winner, c.loser))
        return found


# What a pull reads: columns, not ORM objects, which cost more to build than the query.
PULL_COLUMNS = (
    Record.id,
    Record.rev,
    Record.deleted,
    Record.data,
    Record.meta,
    Record.seq,
    Record.team_id,
    Record.review_state,
    Record.review_comment,
    Record.reviewed_at,
    Record.reviewed_by_id,
    Record.created_at,
    Record.updated_at,
    Record.restricted,
    Record.redaction,
    User.id.label("officer_id"),
    User.username,
    User.display_name,
    Team.code.label("team_code"),
)


def _pulled(row, conflicts: list[OpenConflict]) -> PulledRecord:
    reviewed = row.reviewed_at
    return PulledRecord(
        row.id,
        row.rev,
        row.seq,
        row.deleted,
        row.data,
        field_stamps(row.meta),
        Owner(row.officer_id, row.team_id),
        Review(
            row.review_state,
            row.review_comment,
            int(reviewed.replace(tzinfo=timezone.utc).timestamp() * 1000) if reviewed else None,
        ),
        conflicts,
        {
            "username": row.username,
            "display_name": row.display_name,
            "team_code": row.team_code,
            "reviewed_at": reviewed,
            "reviewed_by_id": row.reviewed_by_id,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
            "restricted": row.restricted,
            "redaction": row.redaction,
        },
    )


@dataclass
class _Plan:
    """A save's rows, built before its sequence numbers are taken."""

    writes: BatchWrites
    touched: list[str]
    inserts: Converted  # converted for the database, seq still to come
    updates: list[dict]
    log: Converted
    log_ids: list[str | None]


# A record's version, as a deferred judgement read it: every column that judging a change
# reads. `seq` moves with every write to the record (its data, stamps, rev); the others can
# move without a phone's change (a review, a restriction, a removal of text, a conflict closed).
_VERSION = (
    Record.id,
    Record.seq,
    Record.rev,
    Record.team_id,
    Record.officer_id,
    Record.open_conflicts,
    Record.review_state,
    Record.redaction,
    Record.restricted,
)


def _version(row) -> tuple:
    return tuple(getattr(row, column.key) for column in _VERSION[1:])


def _conflict_delta(writes: BatchWrites) -> dict[str, int]:
    """Per record, how many open conflicts the save adds (new ones) less those it closes."""
    delta: dict[str, int] = {}
    for c in writes.conflicts:
        delta[c.record_id] = delta.get(c.record_id, 0) + 1
    for r in writes.resolutions:
        delta[r.record_id] = delta.get(r.record_id, 0) - 1
    return delta


def _int32(value) -> int | None:
    """A refused change's base_rev as the 32-bit column can hold it (anything else: None)."""
    return value if type(value) is int and -(2**31) <= value < 2**31 else None


def _side(side: dict) -> dict:
    """A conflict side with the device that wrote it, read from its stamp."""
    return {
        "value": side.get("value"),
        "hlc": side.get("hlc"),
        "device_id": node_of(side.get("hlc")),
    }
