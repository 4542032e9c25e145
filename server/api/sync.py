"""Push and pull: the endpoints phones sync through (docs/sync-protocol.md)."""

from __future__ import annotations

from flask import Blueprint, current_app, g, request

from schema.wire import PullQuerySchema, PushRequestSchema
from server.accounts.auth import device_required
from server.api.body import json_body, load
from server.db import db
from server.db.access_log import add_entry, returned
from server.errors import ApiError, Code
from server.records.text import may_be_unstorable
from server.sync.errors import BadCursorError, ClockUnusableError
from server.sync.pull import note_contact, pull
from server.sync.push import push

bp = Blueprint("api_sync", __name__, url_prefix="/api/v1/sync")
WRITERS = ("officer", "supervisor", "admin")


@bp.post("/push")
@device_required(*WRITERS)
def push_changes():
    """Apply a batch of changes from a device and answer each one."""
    raw = json_body(per_change=True)
    if isinstance(raw, dict) and isinstance(raw.get("changes"), list):
        limit = current_app.config["MAX_CHANGES"]
        if len(raw["changes"]) > limit:
            raise ApiError(
                Code.BATCH_TOO_LARGE,
                f"A batch may hold at most {limit} changes; this one has {len(raw['changes'])}. "
                "Split it and send again.",
            )
    body = load(PushRequestSchema(), raw)
    if body["device_id"] != g.device.id:
        raise ApiError(
            Code.DEVICE_MISMATCH,
            "device_id is not the device this token was issued to. Sign in again on this device.",
        )
    try:
        return push(
            g.user,
            g.device,
            body,
            address=(request.remote_addr or "")[:64],
            text_suspect=may_be_unstorable(request.get_data(cache=True)),
        )
    except ClockUnusableError as exc:
        raise ApiError(Code.CLOCK_DRIFT, str(exc), extra={"server_time": exc.server_time}) from exc


@bp.get("/pull")
@device_required(*WRITERS)
def pull_changes():
    """Return the current state of records changed since the cursor."""
    query = load(PullQuerySchema(), request.args.to_dict())
    try:
        body = pull(g.user, query["since"], query["limit"])
    except BadCursorError as exc:
        raise ApiError(Code.BAD_CURSOR, str(exc)) from exc
    # A pull discloses records to a phone: the access log says which, committed with the
    # device's contact before anything is sent (no entry, no answer).
    add_entry(
        "pull",
        user_id=g.user.id,
        device_id=g.device.id,
        target_type="records",
        detail={
            "since": query["since"],
            "limit": query["limit"],
            "cursor": body["cursor"],
            "more": body["more"],
            **returned([c["id"] for c in body["changes"]]),
            **({"alerts": [a["id"] for a in body["alerts"]]} if "alerts" in body else {}),
        },
    )
    note_contact(g.device, commit=False)
    db.session.commit()
    return body
