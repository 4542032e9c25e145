"""Push, pull and supervisor writes: the one write path into records, over the sync engine."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from marshmallow import ValidationError
from sqlalchemy import select

from schema.fast import Unsure, compile_loader
from schema.wire import ChangeSchema
from sync import HLC, SERVER_NODE, Change, apply_batch
from server.errors import ApiError, Code, flat_messages
from server.extensions import db
from server.models import Conflict, Device, Record, SyncBatch, SyncCounter, Team, User
from server.records_schema import engagement_schema
from server.store import Actor, SqlStore, field_stamps, from_ms

REQUIRED_ON_CREATE = ("occurred_at", "kind", "summary")
UNUSABLE_SKEW_MS = 366 * 24 * 3600 * 1000  # a clock a year out is broken, not merely wrong
# Network delay makes a measured skew noisy by up to seconds; correcting honest phones by that
# noise would let the order of arrival decide near-simultaneous edits. Correct only real skew.
SKEW_TOLERANCE_MS = 60 * 1000
_ENVELOPE = ChangeSchema()
_envelope_fast = compile_loader(_ENVELOPE, partial=False)


def now_ms() -> int:
    return int(datetime.now(timezone.utc).timestamp() * 1000)


def _prepare(raw_changes: list, schema) -> tuple[list[Change], dict[int, dict]]:
    """Turn the wire changes into engine Changes with normalised data, and note their errors.

    Data is validated as a partial record once here (types, limits, codes, upgrades); whether
    the required fields are present depends on whether the record exists, which the engine
    knows when it calls `validate`.
    """
    changes, errors = [], {}
    for raw in raw_changes:
        if not isinstance(raw, dict):
            change = Change(id=None, op=None, hlc=None, base_rev=None, data={})
            changes.append(change)
            errors[id(change)] = {"_change": ["Each change must be an object."]}
            continue
        problems = _envelope_errors(raw)
        data = raw.get("data", {})
        if raw.get("op") == "upsert" and isinstance(data, dict):
            try:
                data = schema.load_partial(data)
            except ValidationError as exc:
                problems.update(flat_messages(exc.messages))
            else:
                if raw.get("base_rev") is None and data.get("kind") and not data.get("standards"):
                    data["standards"] = _default_standards(data["kind"])
        change = Change(
            id=raw.get("id"), op=raw.get("op"), hlc=raw.get("hlc"),
            base_rev=raw.get("base_rev"), data=data,
        )
        changes.append(change)
        if problems:
            errors[id(change)] = problems
    return changes, errors


def _envelope_errors(raw: dict) -> dict:
    """ChangeSchema().validate(raw), by the fast path when it can decide (schema/fast.py)."""
    try:
        _envelope_fast(raw)
    except Unsure:
        return _ENVELOPE.validate(raw)
    return {}


def push(user: User, device: Device, body: dict, address: str = "") -> dict:
    """Apply one batch from a device in one transaction and return the response body."""
    session = db.session
    received = datetime.now(timezone.utc)
    received_ms = int(received.timestamp() * 1000)
    skew_ms = int(body["device_now"].timestamp() * 1000) - received_ms
    if abs(skew_ms) > UNUSABLE_SKEW_MS:
        raise ApiError(
            Code.CLOCK_DRIFT,
            f"The phone's clock is {abs(skew_ms) // 86_400_000} days out. Set the date and time "
            f"(server time is {received.isoformat()}) and sync again.",
            extra={"server_time": received.isoformat()},
        )
    actor = Actor(user.id, user.team_id, device.id, body["batch_id"], body["device_now"].isoformat())
    store = SqlStore(session, actor)
    store.lock()
    replay = session.get(SyncBatch, (device.id, body["batch_id"]))
    if replay is not None:
        session.rollback()
        return replay.response

    schema = engagement_schema(received)
    changes, errors = _prepare(body["changes"], schema)
    visible = user.team_ids()

    def validate(change: Change, existing):
        problems = errors.get(id(change))
        if problems:
            return problems
        if change.op == "upsert" and existing is None:
            missing = {f: ["Missing data for required field."]
                       for f in REQUIRED_ON_CREATE if f not in change.data}
            return missing or None
        return None

    def authorize(change: Change, existing):
        if existing is None:
            return None if user.team_id is not None else "You have no team; ask your supervisor."
        owner = store.loaded.get(change.id)
        if owner is None:  # created earlier in this batch by this user
            return None
        if owner.officer_id == user.id or visible is None or owner.team_id in visible:
            return None
        return "This record belongs to another team."

    merge_skew = skew_ms if abs(skew_ms) > SKEW_TOLERANCE_MS else 0
    outcome = apply_batch(
        store, changes, now_ms=received_ms, skew_ms=merge_skew, validate=validate,
        authorize=authorize,
    )
    response = {
        "batch_id": body["batch_id"],
        "results": [r.to_dict() for r in outcome.results],
        "server_time": received.isoformat(),
        "server_hlc": str(HLC(received_ms, 0, SERVER_NODE)),
    }
    session.add(SyncBatch(device_id=device.id, batch_id=body["batch_id"], response=response))
    device.last_sync_at = from_ms(received_ms)
    device.last_seen_at = device.last_sync_at
    device.device_now = actor.device_time
    device.clock_skew_ms = skew_ms
    device.pending = body.get("pending")
    device.app_version = body.get("app_version") or device.app_version
    if address:
        device.last_address = address
    session.commit()
    return response


def _default_standards(kind: str) -> list[str]:
    from server.catalogues import catalogues

    return catalogues().current.default_standards(kind)


# What a pull reads: columns, not ORM objects, which cost more to build than the query.
PULL_COLUMNS = (
    Record.id, Record.rev, Record.deleted, Record.data, Record.meta, Record.seq,
    Record.review_state, Record.review_comment, Record.reviewed_at, Record.created_at,
    Record.updated_at, User.id.label("officer_id"), User.username, User.display_name,
    Team.code.label("team_code"),
)


def record_json(row, conflicts: list[dict]) -> dict:
    """The full current state of a record as phones see it, from a row of PULL_COLUMNS."""
    return {
        "id": row.id,
        "rev": row.rev,
        "deleted": row.deleted,
        "data": row.data,
        "hlc": field_stamps(row.meta),
        "officer": {"id": row.officer_id, "username": row.username,
                    "display_name": row.display_name},
        "team": row.team_code,
        "review": {
            "state": row.review_state,
            "comment": row.review_comment,
            "at": _iso(row.reviewed_at),
        },
        "conflicts": conflicts,
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
    }


def _iso(value: datetime | None) -> str | None:
    return value.replace(tzinfo=timezone.utc).isoformat() if value else None


def _cursor(since: str) -> int:
    """The sequence number a cursor stands for; one the server never gave is refused.

    A cursor past the counter (a phone that synced with a database since restored from backup)
    would otherwise silently get nothing; bad_cursor tells it to pull from the start.
    """
    if not since:
        return 0
    # isascii: str.isdigit() is also true of "¹" and other digits int() will not read.
    if since.isascii() and since.isdigit() and len(since) <= 18:
        after = int(since)
        if after <= db.session.scalar(select(SyncCounter.value).where(SyncCounter.id == 1)):
            return after
    raise ApiError(Code.BAD_CURSOR, "The cursor is not one this server gave; pull from the start.")


# A pull is contact too ("last sync" on the console), but a phone paging through a first pull
# must not queue a write behind every push: note it at most once a minute.
CONTACT_EVERY = timedelta(minutes=1)


def note_contact(device: Device) -> None:
    """Mark the device as having synced now (pushes do it in their own transaction)."""
    now = from_ms(now_ms())
    if device.last_sync_at is None or now - device.last_sync_at >= CONTACT_EVERY:
        device.last_sync_at = device.last_seen_at = now
        db.session.commit()


def pull(user: User, since: str, limit: int) -> dict:
    """Records the user may see whose seq is past the cursor, in seq (commit) order."""
    after = _cursor(since)
    query = (
        select(*PULL_COLUMNS)
        .join(User, Record.officer_id == User.id)
        .join(Team, Record.team_id == Team.id)
        .where(Record.seq > after)
        .order_by(Record.seq)
        .limit(limit + 1)
    )
    visible = user.team_ids()
    if visible is not None:
        query = query.where((Record.team_id.in_(visible)) | (Record.officer_id == user.id))
    rows = db.session.execute(query).all()
    more = len(rows) > limit
    rows = rows[:limit]
    open_conflicts: dict[str, list[dict]] = {}
    if rows:
        for c in db.session.execute(
            select(Conflict.id, Conflict.record_id, Conflict.field, Conflict.winner, Conflict.loser)
            .where(Conflict.record_id.in_([row.id for row in rows]), Conflict.status == "open")
            .order_by(Conflict.id)
        ):
            open_conflicts.setdefault(c.record_id, []).append(
                {"id": c.id, "field": c.field, "winner": c.winner, "loser": c.loser})
    changes = [record_json(row, open_conflicts.get(row.id, [])) for row in rows]
    cursor = str(rows[-1].seq) if rows else str(after)
    return {"changes": changes, "cursor": cursor, "more": more}


class ActionError(ValueError):
    """A supervisor action that cannot be done as asked (bad state, stale conflict, bad value)."""


def review_record(user: User, record_id: str, state: str, comment: str = "") -> Record:
    """Approve a record or return it to its officer with a comment; phones see it on next pull."""
    from server.models import Change as ChangeRow
    from server.store import allocate_seqs

    if state not in ("approved", "returned"):
        raise ActionError("A review approves or returns a record.")
    if state == "returned" and not comment.strip():
        raise ActionError("Say what the officer should fix when returning a record.")
    session = db.session
    seq = allocate_seqs(session, 1)  # takes the writers' lock first
    record = session.get(Record, record_id)
    if record is None:
        raise ActionError("No such record.")
    now = from_ms(now_ms())
    record.review_state = state
    record.review_comment = comment.strip()
    record.reviewed_by_id = user.id
    record.reviewed_at = now
    record.seq = seq
    record.updated_at = now
    session.add(ChangeRow(
        record_id=record.id, op="review", status="applied", rev=record.rev, seq=seq,
        data={"fields": ["review"], "values": {"state": state, "comment": record.review_comment}},
        user_id=user.id, occurred_at=record.occurred_at, received_at=now,
    ))
    session.commit()
    return record


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
        from server.store import allocate_seqs

        record.seq = allocate_seqs(session, 1)
    session.commit()
    return conflict
