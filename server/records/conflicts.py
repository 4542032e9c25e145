"""Resolving a conflict: the chosen value is written as a server change through the engine, and
the conflict closes in the same save."""

from __future__ import annotations

from marshmallow import ValidationError

from server.clock import now_ms
from server.db import db
from server.db.models import Conflict, User
from server.errors import flat_messages
from server.records.review import ActionError
from server.records.server_change import apply_server_change
from server.records.validator import engagement_schema
from server.sync.store import Actor, SqlStore
from sync import HLC, SERVER_NODE, Change, Resolution


def resolve_conflict(user: User, conflict_id: int, value) -> Conflict:
    """Write the chosen value as a normal server change, then close the conflict."""
    session = db.session
    received_ms = now_ms()
    conflict = session.get(Conflict, conflict_id)
    if conflict is None or conflict.status != "open":
        raise ActionError("This conflict is already resolved or does not exist.")
    record_id = conflict.record_id
    op, data = _operation(conflict.field, value)
    team_id = conflict.record.team_id
    store = SqlStore(session, Actor(user.id, team_id, None, None, None, resets_review=False))
    store.lock()
    state = store.load([record_id])[record_id]
    stamp = str(HLC(received_ms, 0, SERVER_NODE))
    change = Change(id=record_id, op=op, hlc=stamp, base_rev=state.rev, data=data)
    resolution = Resolution(conflict_id, record_id, value, stamp, user.id, received_ms)
    result = apply_server_change(session, store, change, received_ms, [resolution])
    if result.status == "rejected":
        reasons = " ".join(m for ms in (result.errors or {}).values() for m in ms)
        raise ActionError(f"That value cannot be saved: {reasons}")
    session.commit()
    closed = session.get(Conflict, conflict_id)
    assert closed is not None
    return closed


def _operation(field: str, value) -> tuple[str, dict]:
    """(op, data) of the change that writes `value` into `field`."""
    if field == "_deleted":
        return ("delete", {}) if value else ("upsert", {})
    try:
        data = engagement_schema().load_partial({field: value})
    except ValidationError as exc:
        reasons = " ".join(m for ms in flat_messages(exc.messages).values() for m in ms)
        raise ActionError(f"That value cannot be saved: {reasons}") from exc
    data.pop("schema_version", None)
    return "upsert", data
