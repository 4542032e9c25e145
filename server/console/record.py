"""One record: every field, who wrote it from which device, its history, conflicts and review."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import Blueprint, g, render_template, request
from werkzeug.datastructures import MultiDict

from schema.pii import detect_record
from schema.records import field_labels
from server.console import options
from server.console.paging import SORTS, fetch_page
from server.console.record_query import RecordFilter, shown_review
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
REVIEW_WORDS = {"approved": "Approved", "returned": "Returned to the officer"}
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
            state = values.get("state")
            fields = [
                ("review", REVIEW_WORDS.get(state, state)),
                ("comment", values.get("comment") or ""),
            ]
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


@dataclass
class Resubmission:
    """An officer's change that sent a reviewed record back: who, when, after which review."""

    who: str
    at: object
    review_state: str  # the review it came after: returned or approved
    reviewed_at: object
    reviewer_id: int | None
    reviewer: str
    comment: str


def resubmission(record: Record) -> Resubmission | None:
    """The first phone change after the last review, for a record waiting again after one."""
    if shown_review(record.review_state, record.reviewed_at, record.deleted) != "resubmitted":
        return None
    rows = db.session.execute(
        sa.select(
            Change.op,
            Change.data,
            Change.device_id,
            Change.received_at,
            User.display_name,
            User.username,
        )
        .outerjoin(User, User.id == Change.user_id)
        .where(Change.record_id == record.id, Change.status != "rejected")
        .order_by(Change.id)
    ).all()
    before = None
    after = None
    for op, data, device_id, received_at, display_name, username in rows:
        if op == "review":
            values = (data or {}).get("values") or {}
            before, after = values.get("state"), None
        elif before and after is None and device_id:
            after = (display_name or username or "the officer", received_at)
    who, at = after if after else (record.officer.display_name, record.updated_at)
    reviewer = record.reviewed_by
    return Resubmission(
        who=who,
        at=at,
        review_state=before or "returned",
        reviewed_at=record.reviewed_at,
        reviewer_id=reviewer.id if reviewer else None,
        reviewer=(reviewer.display_name or reviewer.username) if reviewer else "someone",
        comment=record.review_comment,
    )


@dataclass
class Neighbours:
    """The records either side of this one in the list it was opened from."""

    newer: str | None
    older: str | None
    args: dict


def neighbours(record: Record) -> Neighbours:
    team_ids = visible_team_ids()
    filters = RecordFilter.from_args(request.args, team_ids)
    args = {} if filters.errors else filters.to_args()
    if filters.errors:
        filters = RecordFilter.from_args(MultiDict(), team_ids)
    conditions = filters.conditions(team_ids)
    here = (getattr(record, SORTS[filters.sort].key), record.id)
    older = fetch_page(conditions, after=here, size=1, sort=filters.sort).rows
    newer = fetch_page(conditions, before=here, size=1, sort=filters.sort).rows
    return Neighbours(newer[0].id if newer else None, older[0].id if older else None, args)


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
        review=shown_review(record.review_state, record.reviewed_at, record.deleted),
        resubmitted=resubmission(record),
        around=neighbours(record),
        review_error=g.get("review_error"),
        typed_comment=g.get("typed_comment", ""),
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
