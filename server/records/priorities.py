"""Local priorities written from the console: a priority is a record of kind `local_priority`,
so a console edit is one more change through the sync engine (per-field merge, change log,
conflicts, a new seq phones pull), stamped by the server's clock.

Validation is the record schema's (the phone's too), plus what only the server can check: the
owner is an officer of the team, and the meeting and concern records are the team's own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from marshmallow import ValidationError

from schema.records import ENDED, PRIORITY
from server.catalogues import catalogues
from server.clock import now_ms
from server.db import db
from server.db.models import Record, Team, User
from server.errors import flat_messages
from server.records.server_change import apply_server_change
from server.records.validator import engagement_schema
from server.sync.store import Actor, SqlStore
from sync import HLC, SERVER_NODE, Change, RecordState

MEETING_KINDS = ("priority_review", "community_meeting")
# What the console form edits, in the order the form shows them.
FORM_FIELDS = (
    "title",
    "summary",
    "priority_status",
    "closed_reason",
    "closed_on",
    "occurred_at",
    "review_by",
    "owner_id",
    "meeting_id",
    "concern_record_ids",
    "public",
)


class PriorityForbidden(PermissionError):
    """The user may not write this team's priorities (the message says why, plainly)."""


class PriorityInvalid(ValueError):
    """The form's values cannot be saved: field name -> plain-words messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(m for ms in errors.values() for m in ms))
        self.errors = errors


def check_may_write(user: User, team: Team) -> None:
    """Supervisors write their own teams' priorities, admins any team's; nobody else."""
    if user.role == "admin":
        return
    if user.role != "supervisor":
        raise PriorityForbidden(
            "Only supervisors and administrators can set or change local priorities."
        )
    if team.id not in (user.team_ids() or set()):
        raise PriorityForbidden(
            f"You do not supervise {team.code}: only its supervisors and administrators can "
            "set or change its local priorities."
        )


def officers_among(user_ids: set[int], team_ids: set[int] | None) -> set[int]:
    """Which of `user_ids` are active officers of `team_ids` (None: of any team): who may own
    a priority, whether the console or a phone sets it."""
    query = sa.select(User.id).where(
        User.id.in_(sorted(user_ids)), User.role == "officer", User.active.is_(True)
    )
    if team_ids is not None:
        query = query.where(User.team_id.in_(sorted(team_ids)))
    return set(db.session.scalars(query))


def team_officers(team_id: int) -> list[User]:
    """Who may own a priority: the team's active officers."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.team_id == team_id, User.role == "officer", User.active.is_(True))
            .order_by(User.display_name, User.username)
        )
    )


@dataclass(frozen=True)
class Saved:
    record_id: str
    status: str  # the engine's: applied, merged or conflict
    conflicts: list[str]  # fields whose concurrent values clashed


def save_priority(
    user: User,
    team: Team,
    values: dict[str, Any],
    *,
    record_id: str | None = None,
    base_rev: int | None = None,
    was: dict[str, Any] | None = None,
) -> Saved:
    """Create a priority (record_id None) or edit one, as a console-authored change.

    `values` are the form's values (typed: None for an empty choice); on an edit `was` is what
    the form showed, and only the fields that differ from it are sent, at `base_rev` (the rev
    the form was made from), so a field a phone changed meanwhile merges like two phones' edits.
    Nothing is written unless everything is valid.
    """
    check_may_write(user, team)
    session = db.session
    at_ms = now_ms()
    store = SqlStore(session, Actor(user.id, team.id, None, None, None, resets_review=False))
    try:
        if record_id is None:
            record_id = str(uuid.uuid4())
            store.lock()
            data = _create_data(values, team, at_ms)
            state = None
        else:
            store.lock([record_id])
            state = _editable(store, record_id, team)
            data = _edit_data(values, was or {}, state, team)
            if not data:
                session.rollback()
                return Saved(record_id, "applied", [])
        change = Change(
            id=record_id,
            op="upsert",
            hlc=str(_stamp(state, at_ms)),
            base_rev=None if state is None else _base(base_rev, state),
            data=data,
        )
    except Exception:
        session.rollback()
        raise
    # Checked above: who may write (check_may_write) and what (against the record as stored).
    result = apply_server_change(session, store, change, at_ms)
    if result.status == "rejected":
        raise PriorityInvalid({k: list(v) for k, v in (result.errors or {}).items()})
    session.commit()
    return Saved(record_id, result.status, [c.field for c in result.conflicts])


def _base(base_rev: int | None, state: RecordState) -> int:
    """The rev the form was made from; a missing or impossible one counts as the current."""
    if type(base_rev) is int and 0 <= base_rev <= state.rev:
        return base_rev
    return state.rev


def _stamp(state: RecordState | None, at_ms: int) -> HLC:
    """The server's clock after the record's latest stamp: later than anything it holds even
    when a stamp is ahead of the wall clock, and never the same stamp twice for one record."""
    last = max((m["hlc"] for m in state.meta.values()), default=None) if state else None
    clock = HLC(0, 0, SERVER_NODE)
    if last is not None:
        parsed = HLC.parse(last)
        clock = HLC(parsed.millis, parsed.counter, SERVER_NODE)
    return clock.send(at_ms)


def _editable(store: SqlStore, record_id: str, team: Team) -> RecordState:
    state = store.load([record_id]).get(record_id)
    owner = store.owner(record_id)
    if state is None or owner is None or owner.team_id != team.id:
        raise PriorityInvalid({"_record": ["There is no such priority in this team."]})
    if state.fields.get("kind") != PRIORITY:
        raise PriorityInvalid({"_record": ["This record is not a local priority."]})
    if state.deleted:
        raise PriorityInvalid({"_record": ["This priority was deleted: it cannot be changed."]})
    if store.restricted(record_id):
        raise PriorityInvalid({"_record": ["This priority is restricted: it cannot be changed."]})
    return state


def _create_data(values: dict[str, Any], team: Team, at_ms: int) -> dict[str, Any]:
    raw = {
        "schema_version": 2,
        "kind": PRIORITY,
        **_companions(values),
    }
    raw.setdefault("priority_status", "open")
    schema = engagement_schema()
    try:
        data = schema.load(raw)
    except ValidationError as exc:
        data = None
        errors = flat_messages(exc.messages)
    else:
        errors = {}
    errors.update(link_errors(team, raw))
    if errors or data is None:
        raise PriorityInvalid(_plain(errors))
    data["standards"] = data.get("standards") or catalogues().current.default_standards(PRIORITY)
    return data


def _edit_data(
    values: dict[str, Any], was: dict[str, Any], state: RecordState, team: Team
) -> dict[str, Any]:
    """Only what the supervisor changed, checked as the whole record it makes."""
    changed = {
        name: value
        for name, value in values.items()
        if name in FORM_FIELDS and (name not in was or was[name] != value)
    }
    if not changed:
        return {}
    if "priority_status" in changed:
        # A status that ends a priority travels with its day (and a closure with its reason),
        # as the schema asks of every edit that sends one.
        for name in ("closed_on", "closed_reason"):
            if name in values:
                changed.setdefault(name, values[name])
    changed = _companions(changed)
    schema = engagement_schema()
    errors: dict[str, list[str]] = {}
    data: dict[str, Any] = {}
    try:
        data = schema.load_partial(changed)
    except ValidationError as exc:
        errors.update(flat_messages(exc.messages))
    merged = {k: v for k, v in state.fields.items() if k != "schema_version"}
    merged.update(changed)
    try:
        schema.load(merged)
    except ValidationError as exc:
        for name, messages in flat_messages(exc.messages).items():
            errors.setdefault(name, messages)
    errors.update(link_errors(team, changed))
    if errors:
        raise PriorityInvalid(_plain(errors))
    data.pop("schema_version", None)
    return data


def _companions(values: dict[str, Any]) -> dict[str, Any]:
    """A priority that has not ended has no end day, and only a closed one a closing reason."""
    out = dict(values)
    status = out.get("priority_status")
    if status is not None and status not in ENDED and "closed_on" in out:
        out["closed_on"] = None
    if status is not None and status != "closed" and "closed_reason" in out:
        out["closed_reason"] = ""
    return out


def link_errors(team: Team, data: dict[str, Any]) -> dict[str, list[str]]:
    """The owner, the meeting and the concern records must be of the priority's team."""
    team_id = team.id
    errors: dict[str, list[str]] = {}
    owner = data.get("owner_id")
    if type(owner) is int:
        if not officers_among({owner}, {team_id}):
            errors["owner_id"] = [
                "That person is not an officer of this team: choose the owner from the list."
            ]
    meeting = data.get("meeting_id")
    if isinstance(meeting, str) and meeting:
        if not _team_records([meeting], team_id, Record.kind.in_(MEETING_KINDS)):
            errors["meeting_id"] = [
                "That is not one of this team's priority reviews or community meetings: "
                "choose the meeting from the list."
            ]
    wanted = [i for i in data.get("concern_record_ids") or () if isinstance(i, str)]
    if wanted:
        found_ids = _team_records(wanted, team_id, Record.kind != PRIORITY)
        with_concerns = {rid for rid, rdata in found_ids.items() if (rdata or {}).get("concerns")}
        if set(wanted) - with_concerns:
            errors["concern_record_ids"] = [
                "Some of these are not this team's records of concerns raised: choose them "
                "from the list."
            ]
    return errors


def _team_records(ids: list[str], team_id: int, condition) -> dict[str, dict]:
    rows = db.session.execute(
        sa.select(Record.id, Record.data).where(
            Record.id.in_([i[:36] for i in ids]),
            Record.team_id == team_id,
            Record.deleted.is_(False),
            Record.restricted.is_(False),
            condition,
        )
    )
    return {row.id: row.data for row in rows}


PLAIN = {
    "Missing data for required field.": "This is needed.",
    "Field may not be null.": "This is needed.",
    "Shorter than minimum length 1.": "This is needed.",
}


def _plain(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """The schema's messages, with marshmallow's stock phrases put in plain words."""
    out: dict[str, list[str]] = {}
    for name, messages in errors.items():
        field = name.split(".", 1)[0]
        words = []
        for m in messages:
            m = PLAIN.get(m, m)
            if m.startswith("Longer than maximum length"):
                m = f"Too long: at most {m.rsplit(' ', 1)[-1].rstrip('.')} characters."
            words.append(m)
        out.setdefault(field, []).extend(w for w in words if w not in out.get(field, []))
    return out
