"""Push: validate a phone's batch, merge it through the sync engine and store it, in one
transaction (docs/sync-protocol.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from schema.fast import Unsure, compile_loader
from schema.records import wrong_kind_errors
from schema.wire import ChangeSchema
from server.catalogues import catalogues
from server.clock import from_ms
from server.db import db
from server.db.models import Device, SyncBatch, User
from server.errors import flat_messages
from server.records import text
from server.records.priorities import officers_among
from server.records.text import bad_text
from server.records.validator import engagement_schema
from server.sync.errors import ClockUnusableError
from server.sync.store import Actor, SqlStore, node_of
from sync import HLC, SERVER_NODE, Change, StaleWriteError, apply_batch

REQUIRED_ON_CREATE = ("occurred_at", "kind", "summary")
UNUSABLE_SKEW_MS = 366 * 24 * 3600 * 1000  # a clock a year out is broken, not merely wrong
# Network delay makes a measured skew noisy by up to seconds; correcting honest phones by that
# noise would let the order of arrival decide near-simultaneous edits. Correct only real skew.
SKEW_TOLERANCE_MS = 60 * 1000
WRITE_ATTEMPTS = 3
_ENVELOPE = ChangeSchema()
_envelope_fast = compile_loader(_ENVELOPE, partial=False)


def _unstorable(raw: dict) -> Change:
    """A change holding text the database cannot store, made storable so that it can be
    rejected and kept in the change log like any refused change (its data is not kept)."""
    base_rev = raw.get("base_rev")
    # A refused change keeps what the device sent, None included, for its result and the log;
    # the engine's Change types the envelope of a valid change.
    return Change(
        id=text.clean(raw.get("id")),  # type: ignore[arg-type]
        op=text.clean(raw.get("op")),  # type: ignore[arg-type]
        hlc=text.clean(raw.get("hlc")),  # type: ignore[arg-type]
        base_rev=base_rev if type(base_rev) is int else None,
        data={},
    )


def _text_errors(raw: dict) -> dict:
    data = raw.get("data")
    found = text.bad_fields(data) if isinstance(data, dict) else {}
    found.update(text.bad_fields({k: v for k, v in raw.items() if k != "data"}))
    return found or {"data": [text.problem(data) or text.MESSAGE]}


def _prepare(
    raw_changes: list, schema, text_suspect: bool = True
) -> tuple[list[Change], dict[int, dict]]:
    """Turn the wire changes into engine Changes with normalised data, and note their errors.

    Data is validated as a partial record once here (types, limits, codes, upgrades); whether
    the required fields are present depends on whether the record exists, which the engine
    knows when it calls `validate`.
    """
    changes, errors = [], {}
    for raw in raw_changes:
        if not isinstance(raw, dict):
            change = Change(id=None, op=None, hlc=None, base_rev=None, data={})  # type: ignore[arg-type]
            changes.append(change)
            errors[id(change)] = {"_change": ["Each change must be an object."]}
            continue
        if text_suspect and bad_text(raw):
            change = _unstorable(raw)
            changes.append(change)
            errors[id(change)] = _text_errors(raw)
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
        # An invalid envelope is refused, and its result keeps what the device sent (None too).
        change = Change(
            id=raw.get("id"),  # type: ignore[arg-type]
            op=raw.get("op"),  # type: ignore[arg-type]
            hlc=raw.get("hlc"),  # type: ignore[arg-type]
            base_rev=raw.get("base_rev"),
            data=data,
        )
        changes.append(change)
        if problems:
            errors[id(change)] = problems
    return changes, errors


def _check_owners(user: User, changes: list[Change], errors: dict[int, dict]) -> None:
    """A priority's owner must be an active officer of a team the pusher writes for."""
    with_owner = [c for c in changes if isinstance(c.data, dict) and "owner_id" in c.data]
    wanted = {o for c in with_owner if type(o := c.data["owner_id"]) is int}
    if not wanted:
        return
    members = officers_among(wanted, user.team_ids())
    for change in with_owner:
        owner = change.data["owner_id"]
        if type(owner) is int and owner not in members:
            errors.setdefault(id(change), {})["owner_id"] = [
                "Is not an officer of this team: choose the owner from the team."
            ]


def _envelope_errors(raw: dict) -> dict:
    """ChangeSchema().validate(raw), by the fast path when it can decide (schema/fast.py)."""
    try:
        _envelope_fast(raw)
    except Unsure:
        return _ENVELOPE.validate(raw)
    return {}


RESTRICTED = "This record is restricted: it can no longer be changed from the app."
NOT_YOUR_DEVICE = (
    "The change's stamp names another device than the one signed in. Sign in again on this phone."
)


def not_yours(user: User, team_id: int) -> str:
    """Why a push may not write someone else's record (docs/sync-protocol.md, "Who may write")."""
    visible = user.team_ids()
    if visible is not None and team_id not in visible:
        return "This record belongs to another team."
    return (
        "Only the officer who made this record can change it from the app; supervisors review "
        "and resolve it in the console."
    )


def own_device_ids(user: User, device: Device, stamps: list) -> set[str]:
    """The nodes a push may stamp changes with: the signed-in device, and any other device of
    the same user (a phone that signed in again keeps the queue it stamped under its old id).

    Device ids are visible in pulled stamps, so a teammate's id must not pass: only ids this
    user signed in with are accepted. One query, and only when a batch names another node.
    """
    # A stamp with text the database cannot hold is rejected later; it names no device anyway.
    nodes = {node_of(s) for s in stamps if isinstance(s, str) and not bad_text(s)}
    nodes -= {device.id, None}
    own = {device.id}
    if nodes:
        own.update(
            db.session.scalars(
                select(Device.id).where(Device.user_id == user.id, Device.id.in_(nodes))
            )
        )
    return own


@dataclass
class Prepared:
    """A batch made ready before the writers' lock: everything that does not depend on the
    database's current records (docs/sync-protocol.md, "Inside and outside the lock")."""

    received: datetime
    received_ms: int
    skew_ms: int
    actor: Actor
    changes: list[Change]
    errors: dict[int, dict]
    own_nodes: set[str]
    record_ids: list[str]


def prepare(user: User, device: Device, body: dict, text_suspect: bool = True) -> Prepared:
    """Measure the clock, validate and default every change, and find the device ids the
    batch may stamp with: no lock is held, so another worker's push commits meanwhile."""
    received = datetime.now(timezone.utc)
    received_ms = int(received.timestamp() * 1000)
    skew_ms = int(body["device_now"].timestamp() * 1000) - received_ms
    if abs(skew_ms) > UNUSABLE_SKEW_MS:
        raise ClockUnusableError(abs(skew_ms) // 86_400_000, received.isoformat())
    actor = Actor(
        user.id, user.team_id, device.id, body["batch_id"], body["device_now"].isoformat()
    )
    changes, errors = _prepare(body["changes"], engagement_schema(received), text_suspect)
    _check_owners(user, changes, errors)
    own_nodes = own_device_ids(
        user, device, [c.get("hlc") for c in body["changes"] if isinstance(c, dict)]
    )
    record_ids = sorted({c.id for c in changes if isinstance(c.id, str)})
    return Prepared(received, received_ms, skew_ms, actor, changes, errors, own_nodes, record_ids)


def push(
    user: User, device: Device, body: dict, address: str = "", text_suspect: bool = True
) -> dict:
    """Apply one batch from a device in one transaction and return the response body.

    `text_suspect` False says the body has no surrogate or NUL escape at all
    (server/records/text.py), so no change needs its text checked one by one."""
    session = db.session
    # A replay is answered without validating or locking anything; it is checked again
    # under the lock, where a batch still in flight on another worker has committed.
    replay = session.get(SyncBatch, (device.id, body["batch_id"]))
    if replay is not None:
        return replay.response
    ready = prepare(user, device, body, text_suspect)
    for attempt in range(WRITE_ATTEMPTS):
        try:
            return _write(user, device, body, ready, address)
        except (IntegrityError, StaleWriteError):
            # PostgreSQL only: another device of this user created one of these records in
            # a push that committed meanwhile (no row to lock existed). Judge it afresh.
            session.rollback()
            if attempt == WRITE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _write(user: User, device: Device, body: dict, ready: Prepared, address: str) -> dict:
    """Judge the batch on what is committed, then under the writers' lock confirm that none
    of it has moved and write; if any has, judge it again under the lock (docs/sync-protocol.md,
    "Inside and outside the lock")."""
    session = db.session
    store = SqlStore(session, ready.actor, deferred=True)
    response = _apply(user, store, ready, body["batch_id"])
    store.lock(ready.record_ids)
    replay = session.get(SyncBatch, (device.id, body["batch_id"]))
    if replay is not None:
        session.rollback()
        return replay.response
    if store.confirm():
        store.write_deferred()
    else:
        response = _apply(user, SqlStore(session, ready.actor), ready, body["batch_id"])
    session.add(SyncBatch(device_id=device.id, batch_id=body["batch_id"], response=response))
    device.last_sync_at = from_ms(ready.received_ms)
    device.last_seen_at = device.last_sync_at
    device.device_now = ready.actor.device_time
    device.clock_skew_ms = ready.skew_ms
    device.pending = body.get("pending")
    device.app_version = body.get("app_version") or device.app_version
    if address:
        device.last_address = address
    session.commit()
    return response


def _apply(user: User, store: SqlStore, ready: Prepared, batch_id: str) -> dict:
    """Under the lock: what needs the current records (seen, load, authorise, merge, save)."""
    errors = ready.errors

    def validate(change: Change, existing):
        problems = errors.get(id(change))
        if problems:
            return problems
        if existing is not None and change.op == "upsert" and "kind" not in change.data:
            wrong = wrong_kind_errors(existing.fields.get("kind"), change.data)
            if wrong:
                return wrong
        if existing is not None and change.op == "upsert":
            # Removed text stays removed: a phone's value for a sealed field is dropped before
            # the merge, the change log or a conflict can keep it (server/records/redaction.py).
            # The engine merges and logs this same dict, after this hook.
            for name in store.sealed(change.id).intersection(change.data):
                del change.data[name]
        if change.op == "upsert" and existing is None:
            missing = {
                f: ["Missing data for required field."]
                for f in REQUIRED_ON_CREATE
                if f not in change.data
            }
            return missing or None
        return None

    def authorize(change: Change, existing):
        if node_of(change.hlc) not in ready.own_nodes:
            return NOT_YOUR_DEVICE
        if existing is not None and store.restricted(change.id):
            return RESTRICTED
        if existing is None:
            return None if user.team_id is not None else "You have no team; ask your supervisor."
        owner = store.owner(change.id)
        if owner is None:  # created earlier in this batch by this user
            return None
        return None if owner.officer_id == user.id else not_yours(user, owner.team_id)

    skew_ms = ready.skew_ms
    outcome = apply_batch(
        store,
        ready.changes,
        now_ms=ready.received_ms,
        skew_ms=skew_ms if abs(skew_ms) > SKEW_TOLERANCE_MS else 0,
        validate=validate,
        authorize=authorize,
    )
    return {
        "batch_id": batch_id,
        "results": [r.to_dict() for r in outcome.results],
        "server_time": ready.received.isoformat(),
        "server_hlc": str(HLC(ready.received_ms, 0, SERVER_NODE)),
    }


def _default_standards(kind: str) -> list[str]:
    return catalogues().current.default_standards(kind)
