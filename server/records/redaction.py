"""Removing a record's free text for good (retention or erasure), and restricting a record.

Free text is the summary, the follow-up, the place, a priority's title and closing reason, the
phrases of the concerns raised, and the map position: what can say who a
member of the public is. Redaction replaces the text with a marker saying why it went ("[Text
removed under the retention rule]"), drops the position, and keeps everything assessments count
(kind, dates, standards, groups, people, durations, contacts' roles, review state, who wrote
what and when), so past figures do not move. It reaches every copy the database holds:

- the record's data and its columns (the SQLite FTS5 index follows by its triggers, the
  PostgreSQL tsvector is a generated column);
- the change log's stored values and its conflicts' values (the who and when stay);
- the conflicts table (open ones on those fields are closed: nothing is left to choose from);
- the stored replies to pushes (a conflicted change's reply holds both values).

The record takes a new rev and seq, so every phone that pulls gets the redacted copy and
overwrites its own. `record.redaction` seals the fields: a push's value for them is dropped
before the merge (server/sync/push.py, through SqlStore.sealed), so an older phone edit cannot
bring the text back. Nothing in the app
undoes a redaction or a restriction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from server.clock import from_ms, iso, now_ms
from server.db import AnySession
from server.db.models import Change, Conflict, Record, SyncBatch
from server.db.writers import allocate_seqs, lock_records
from server.sync.stamps import pack_meta, unpack_meta
from server.sync.store import record_columns
from sync import HLC, SERVER_NODE

TEXT_FIELDS = ("summary", "follow_up", "place", "title", "closed_reason")
SEALED = (*TEXT_FIELDS, "location", "concerns")  # a concern keeps its category, not its phrase
MARKERS = {
    "retention": "[Text removed under the retention rule]",
    "erasure": "[Text erased on request]",
}
RESTRICTED = "[Restricted record]"
CHUNK = 500  # records per statement: well under every driver's parameter limit

CHANGE, CONFLICT, RECORD, BATCH = (
    Change.__table__,
    Conflict.__table__,
    Record.__table__,
    SyncBatch.__table__,
)


def scrub(field: str, value: Any, marker: str) -> Any:
    """What a sealed field's value becomes: text a marker (empty stays empty), a position None."""
    if field == "location":
        return None
    if field == "concerns" and isinstance(value, list):
        return [
            {**c, "phrase": scrub("phrase", c.get("phrase"), marker)} if isinstance(c, dict) else c
            for c in value
        ]
    return marker if isinstance(value, str) and value else value


def scrubbed_data(data: dict, marker: str) -> dict:
    """`data` with every sealed field present in it scrubbed."""
    return {k: scrub(k, v, marker) if k in SEALED else v for k, v in data.items()}


def masked(data: dict) -> dict:
    """A restricted record as someone not allowed to read it is sent it: no free text at all."""
    return scrubbed_data(data, RESTRICTED)


def _chunks(ids: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


def redact(
    session: AnySession,
    ids: Sequence[str],
    how: str,
    *,
    by_id: int | None,
    why: str,
) -> list[str]:
    """Remove the free text of the records `ids` (those not already redacted), in the caller's
    transaction; returns the ids redacted. `why` is the rule (retention) or the reason (erasure)."""
    marker = MARKERS[how]
    at_ms = now_ms()
    done: list[str] = []
    if session.connection().dialect.name == "sqlite":
        # Freed space in the database file is zeroed, not left holding the old text.
        session.execute(sa.text("PRAGMA secure_delete = ON"))
    for chunk in _chunks(ids):
        lock_records(session, chunk)  # a push of one of them waits, then sees the redaction
        rows = session.execute(
            sa.select(
                Record.id,
                Record.rev,
                Record.data,
                Record.meta,
                Record.occurred_at,
                Record.open_conflicts,
            )
            .where(Record.id.in_(chunk), Record.redaction.is_(None))
            .order_by(Record.occurred_at, Record.id)
        ).all()
        if not rows:
            continue
        seqs = allocate_seqs(session, len(rows))
        closed = _scrub_conflicts(session, [r.id for r in rows], marker, by_id, at_ms)
        seal = {
            "how": how,
            "fields": list(SEALED),
            "at": iso(from_ms(at_ms)),
            "by": by_id,
            "why": why,
        }
        updates, log = [], []
        for n, row in enumerate(rows):
            rev = row.rev + 1
            meta = unpack_meta(row.meta)
            stamp = str(HLC(at_ms, 0, SERVER_NODE))
            data = scrubbed_data(row.data, marker)
            for field in SEALED:
                if field in row.data and data[field] != row.data[field]:
                    old = meta.get(field, {}).get("hlc", "")
                    meta[field] = {"hlc": max(stamp, old), "rev": rev}
            columns = record_columns(data)
            updates.append(
                {
                    "b_id": row.id,
                    "b_rev": rev,
                    "b_seq": seqs[n],
                    "b_data": data,
                    "b_meta": pack_meta(meta),
                    "b_summary": columns["summary"],
                    "b_follow_up": columns["follow_up"],
                    "b_place": columns["place"],
                    "b_redaction": seal,
                    "b_open": max(0, row.open_conflicts - closed.get(row.id, 0)),
                    "b_at": from_ms(at_ms),
                }
            )
            log.append(_log_row(row, rev, seqs[n], how, by_id, at_ms))
        session.execute(
            sa.update(RECORD)
            .where(RECORD.c.id == sa.bindparam("b_id"))
            .values(
                rev=sa.bindparam("b_rev"),
                seq=sa.bindparam("b_seq"),
                data=sa.bindparam("b_data"),
                meta=sa.bindparam("b_meta"),
                summary=sa.bindparam("b_summary"),
                follow_up=sa.bindparam("b_follow_up"),
                place=sa.bindparam("b_place"),
                redaction=sa.bindparam("b_redaction"),
                open_conflicts=sa.bindparam("b_open"),
                updated_at=sa.bindparam("b_at"),
            ),
            updates,
        )
        ids_done = [r.id for r in rows]
        _scrub_change_log(session, ids_done, marker)
        _scrub_replies(session, ids_done, marker)
        session.execute(sa.insert(CHANGE), log)
        done.extend(ids_done)
    return done


def _log_row(row, rev: int, seq: int, op: str, by_id: int | None, at_ms: int) -> dict:
    """The change log's entry for a redaction or a restriction: who, when, which fields."""
    marker = MARKERS.get(op)
    values = {f: scrub(f, "x", marker) for f in SEALED} if marker else {}
    return {
        "record_id": row.id,
        "op": {"retention": "retention", "erasure": "erase"}.get(op, op),
        "status": "applied",
        "rev": rev,
        "seq": seq,
        "data": {"fields": list(values), "values": values},
        "user_id": by_id,
        "occurred_at": row.occurred_at,
        "received_at": from_ms(at_ms),
    }


def _scrub_change_log(session: AnySession, ids: list[str], marker: str) -> None:
    rows = session.execute(
        sa.select(Change.id, Change.data, Change.conflicts).where(Change.record_id.in_(ids))
    ).all()
    updates = []
    for row in rows:
        data = dict(row.data or {})
        values = data.get("values")
        if isinstance(values, dict) and any(k in SEALED for k in values):
            data["values"] = scrubbed_data(values, marker)
        conflicts = _scrub_sides(row.conflicts, marker)
        if data != (row.data or {}) or conflicts != row.conflicts:
            updates.append({"b_id": row.id, "b_data": data, "b_conflicts": conflicts})
    if updates:
        session.execute(
            sa.update(CHANGE)
            .where(CHANGE.c.id == sa.bindparam("b_id"))
            .values(data=sa.bindparam("b_data"), conflicts=sa.bindparam("b_conflicts")),
            updates,
        )


def _scrub_sides(conflicts: list | None, marker: str) -> list | None:
    """Conflicts as the change log and replies keep them ({field, winner, loser}), scrubbed."""
    if not conflicts:
        return conflicts
    out = []
    for c in conflicts:
        if isinstance(c, dict) and c.get("field") in SEALED:
            c = dict(c)
            for side in ("winner", "loser"):
                if isinstance(c.get(side), dict):
                    c[side] = {**c[side], "value": scrub(c["field"], c[side].get("value"), marker)}
        out.append(c)
    return out


def _scrub_conflicts(
    session: AnySession, ids: list[str], marker: str, by_id: int | None, at_ms: int
) -> dict[str, int]:
    """Scrub the conflicts on sealed fields and close the open ones; per record, how many
    open ones were closed."""
    rows = session.execute(
        sa.select(
            Conflict.id,
            Conflict.record_id,
            Conflict.field,
            Conflict.winner,
            Conflict.loser,
            Conflict.status,
            Conflict.resolution,
        ).where(Conflict.record_id.in_(ids), Conflict.field.in_(SEALED))
    ).all()
    closed: dict[str, int] = {}
    for row in rows:

        def side(value: dict | None) -> dict | None:
            if not isinstance(value, dict):
                return value
            return {**value, "value": scrub(row.field, value.get("value"), marker)}

        values: dict[str, Any] = {
            "winner": side(row.winner),
            "loser": side(row.loser),
            "resolution": side(row.resolution),
        }
        if row.status == "open":
            closed[row.record_id] = closed.get(row.record_id, 0) + 1
            values.update(
                status="resolved",
                resolved_by_id=by_id,
                resolved_at=from_ms(at_ms),
                resolution={"value": scrub(row.field, "x", marker), "hlc": None, "redacted": True},
            )
        session.execute(sa.update(CONFLICT).where(CONFLICT.c.id == row.id).values(values))
    return closed


def _scrub_replies(session: AnySession, ids: list[str], marker: str) -> None:
    """Stored push replies that hold these records' values: only a conflicted change's reply
    holds any (its conflicts' winner and loser), so one pass over those finds them all."""
    wanted = set(ids)
    rows = session.execute(
        sa.select(SyncBatch.device_id, SyncBatch.batch_id, SyncBatch.response).where(
            sa.cast(SyncBatch.response, sa.Text).like('%"winner"%')
        )
    ).all()
    for row in rows:
        results = row.response.get("results") or []
        if not any(isinstance(r, dict) and r.get("id") in wanted for r in results):
            continue
        scrubbed = [
            {**r, "conflicts": _scrub_sides(r["conflicts"], marker)}
            if isinstance(r, dict) and r.get("id") in wanted and r.get("conflicts")
            else r
            for r in results
        ]
        if scrubbed != results:
            session.execute(
                sa.update(BATCH)
                .where(BATCH.c.device_id == row.device_id, BATCH.c.batch_id == row.batch_id)
                .values(response={**row.response, "results": scrubbed})
            )


def restrict(session: AnySession, ids: Sequence[str], *, by_id: int | None) -> list[str]:
    """Mark records restricted (those not already), with a new seq so phones pull the masked
    copy; returns the ids restricted."""
    at_ms = now_ms()
    done: list[str] = []
    for chunk in _chunks(ids):
        lock_records(session, chunk)
        rows = session.execute(
            sa.select(Record.id, Record.rev, Record.occurred_at).where(
                Record.id.in_(chunk), Record.restricted.is_(False)
            )
        ).all()
        if not rows:
            continue
        seqs = allocate_seqs(session, len(rows))
        session.execute(
            sa.update(RECORD)
            .where(RECORD.c.id == sa.bindparam("b_id"))
            .values(restricted=True, seq=sa.bindparam("b_seq"), updated_at=from_ms(at_ms)),
            [{"b_id": r.id, "b_seq": seqs[n]} for n, r in enumerate(rows)],
        )
        session.execute(
            sa.insert(CHANGE),
            [_log_row(r, r.rev, seqs[n], "restrict", by_id, at_ms) for n, r in enumerate(rows)],
        )
        done.extend(r.id for r in rows)
    return done
