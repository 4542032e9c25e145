"""Resolving a conflict: the chosen value is written as a server change through the engine."""

from __future__ import annotations

from marshmallow import ValidationError

from server.db import db
from server.db.models import Conflict, Record, User
from server.errors import flat_messages
from server.records.review import ActionError
from server.records.validator import engagement_schema
from server.sync.push import now_ms
from server.sync.store import Actor, SqlStore, allocate_seqs, from_ms
from sync import HLC, SERVER_NODE, Change, apply_batch


def resolve_conflict(user: User, conflict_id: int, value) -> Conflict:
    """Write the chosen value as a normal server change, then close the conflict."""
    session = db.session
    received_ms = now_ms()
    conflict = session.get(Conflict, conflict_id)
    if conflict is None or conflict.status != "open":
        raise ActionError("This conflict is already resolved or does not exist.")
    record = conflict.record
    store = SqlStore(session, Actor(user.id, record.team_id, None, None, None, resets_review=False))
    store.lock()
    session.refresh(record)
    stamp = str(HLC(received_ms, 0, SERVER_NODE))
    if conflict.field == "_deleted":
        op, data = ("delete", {}) if value else ("upsert", {})
    else:
        op = "upsert"
        try:
            data = engagement_schema().load_partial({conflict.field: value})
        except ValidationError as exc:
            reasons = " ".join(m for ms in flat_messages(exc.messages).values() for m in ms)
            raise ActionError(f"That value cannot be saved: {reasons}") from exc
        data.pop("schema_version", None)
    change = Change(id=record.id, op=op, hlc=stamp, base_rev=record.rev, data=data)
    outcome = apply_batch(store, [change], now_ms=received_ms, skew_ms=0,
                          validate=lambda c, e: None, authorize=lambda c, e: None)
    result = outcome.results[0]
    if result.status == "rejected":
        session.rollback()
        reasons = " ".join(m for ms in (result.errors or {}).values() for m in ms)
        raise ActionError(f"That value cannot be saved: {reasons}")
    conflict.status = "resolved"
    conflict.resolved_by_id = user.id
    conflict.resolved_at = from_ms(received_ms)
    conflict.resolution = {"value": value, "hlc": stamp, "rev": result.rev}
    session.flush()
    record = session.get(Record, record.id)
    session.refresh(record)
    record.open_conflicts = max(0, record.open_conflicts - 1)
    if not outcome.writes.records:
        # Keeping the current value writes nothing, but phones must still see the conflict close.
        record.seq = allocate_seqs(session, 1)
    session.commit()
    return conflict
