"""One record: every field, who wrote it from which device, its history, conflicts and review."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import Blueprint, render_template

from schema.pii import detect_record
from schema.records import field_labels
from server.console import options
from server.db import db
from server.db.models import Change, Conflict, Device, Record, User
from server.records import redaction
from server.web.audit import log_access
from server.web.error_pages import PageNotFound
from server.web.session import current_user, login_required, visible_team_ids
from sync import HLC, HLCFormatError

bp = Blueprint("console_record", __name__, url_prefix="/console")

# The record's fields in the order a supervisor reads them; anything else in `data` follows.
# The record's own fields are named by the schema; these two are the change log's.
FIELD_LABELS = {**field_labels(), "_deleted": "Deleted"}
CODED_FIELDS = ("kind", "standards", "groups")
# Bookkeeping the app sends with every record: not something a supervisor reviews.
HIDDEN_FIELDS = {"schema_version"}
REDACTION_ACTIONS = {
    "retention": "Text removed under the retention rule",
    "erase": "Text erased",
    "restrict": "Restricted",
}
OUTCOMES = {
    "applied": "",
    "merged": "merged with an edit from another phone",
    "conflict": "clashed with another edit: both values kept for review",
    "duplicate": "sent again; already had it",
    "rejected": "not saved",
}


def label(field: str) -> str:
    return FIELD_LABELS.get(field, field.replace("_", " ").capitalize())


def visible_record(record_id: str) -> Record:
    """The record if this user may see it; 404 (not 403) otherwise, so ids of other teams' records
    cannot be confirmed."""
    record = db.session.get(Record, record_id[:36])
    team_ids = visible_team_ids()
    if record is None or (team_ids is not None and record.team_id not in team_ids):
        raise PageNotFound()
    if record.restricted and not may_see_restricted():
        raise PageNotFound()
    return record


def may_see_restricted() -> bool:
    """Restricted records are for admins only (issue 13)."""
    user = current_user()
    return user is not None and user.role == "admin"


@dataclass
class HistoryEntry:
    change: Change
    who: str
    device: str
    fields: list[tuple[str, object]]

    @property
    def action(self) -> str:
        """What the change did, in a supervisor's words."""
        c = self.change
        if c.op == "review":
            return "Reviewed"
        if c.op in REDACTION_ACTIONS:
            return REDACTION_ACTIONS[c.op]
        if c.status == "rejected":
            return "Refused"
        if c.op == "delete":
            return "Deleted"
        if c.base_rev is None and c.device_id:
            return "Recorded"
        return "Edited" if c.device_id else "Conflict resolved"

    @property
    def outcome(self) -> str:
        return OUTCOMES.get(self.change.status, self.change.status)

    @property
    def made_ms(self) -> int | None:
        """When the phone says the change was made: its stamp's clock, which may be hours
        before the upload (`device_time` is the phone's clock when it sent the batch)."""
        if not self.change.device_id or not self.change.hlc:
            return None
        try:
            return HLC.parse(self.change.hlc).millis
        except HLCFormatError:
            return None


def history(record: Record) -> list[HistoryEntry]:
    rows = db.session.execute(
        sa.select(Change, User.display_name, User.username)
        .outerjoin(User, User.id == Change.user_id)
        .where(Change.record_id == record.id)
        .order_by(Change.id)
    ).all()
    device_ids = {c.device_id for c, _, _ in rows if c.device_id}
    names = device_names(device_ids)
    entries = []
    for change, display_name, username in rows:
        data = change.data or {}
        values = data.get("values") if isinstance(data.get("values"), dict) else None
        if change.op == "review" and values is not None:
            # A review writes no record field: show its decision and comment.
            fields = [("review", values.get("state")), ("comment", values.get("comment") or "")]
        elif values is not None:
            written = data.get("fields") or list(values)
            fields = [(name, values.get(name)) for name in written if name not in HIDDEN_FIELDS]
        else:
            fields = [(name, value) for name, value in data.items()]
        entries.append(
            HistoryEntry(
                change=change,
                who=display_name or username or "(unknown)",
                device=names.get(change.device_id, change.device_id or "Console"),
                fields=fields,
            )
        )
    return entries


def device_names(ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Device.id, Device.name, User.display_name)
        .join(User, User.id == Device.user_id)
        .where(Device.id.in_(ids))
    )
    return {device_id: f"{name} ({device_id[:8]}) · {owner}" for device_id, name, owner in rows}


def open_conflicts(record_id: str) -> list[Conflict]:
    return list(
        db.session.scalars(
            sa.select(Conflict)
            .where(Conflict.record_id == record_id, Conflict.status == "open")
            .order_by(Conflict.id)
        )
    )


def ordered_fields(data: dict) -> list[tuple[str, object]]:
    known = [(k, data[k]) for k in FIELD_LABELS if k in data and k not in HIDDEN_FIELDS]
    extra = sorted(
        (k, v) for k, v in data.items() if k not in FIELD_LABELS and k not in HIDDEN_FIELDS
    )
    return known + extra


@bp.get("/records/<record_id>")
@login_required("supervisor", "admin")
def record_page(record_id: str):
    """Every field, the officer and device, the history, open conflicts and the review forms."""
    record = visible_record(record_id)
    log_access("view_record", "record", record.id)
    db.session.commit()
    conflicts = open_conflicts(record.id)
    conflict_devices = {
        side.get("device_id")
        for c in conflicts
        for side in (c.winner, c.loser)
        if side.get("device_id")
    }
    device = db.session.get(Device, record.device_id) if record.device_id else None
    return render_template(
        "console/record.html",
        record=record,
        fields=ordered_fields(record.data or {}),
        label=label,
        coded=CODED_FIELDS,
        titles=options.titles(),
        device=device,
        history=history(record),
        conflicts=conflicts,
        conflict_devices=device_names(conflict_devices),
        user=current_user(),
        removed_marker=redaction.MARKERS.get((record.redaction or {}).get("how"), ""),
        erased_by=_name_of((record.redaction or {}).get("by")),
        pii_flags={} if record.redaction else detect_record(record.data or {}),
    )


def _name_of(user_id: int | None) -> str:
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    return (user.display_name or user.username) if user else ""
