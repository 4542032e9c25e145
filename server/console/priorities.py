"""A team's local priorities in the console: the list, a new priority, and editing one.

A priority is a record of kind `local_priority` (docs/standards.md, "The priority loop"); the
writes are server/records/priorities.py's, through the sync engine like a phone's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for

from schema.records import PRIORITY, PRIORITY_STATUSES
from server.assessment.grid import force_tz
from server.catalogues import vocabularies
from server.console.options import visible_teams
from server.db import db
from server.db.access_log import returned
from server.db.models import Record, Team, User
from server.records.priorities import (
    MEETING_KINDS,
    PriorityForbidden,
    PriorityInvalid,
    check_may_write,
    save_priority,
    team_officers,
)
from server.web.audit import log_access, log_read
from server.web.error_pages import PageForbidden, PageNotFound
from server.web.session import login_required, signed_in, visible_team_ids

bp = Blueprint("console_priorities", __name__, url_prefix="/console")

STATUS_WORDS = {
    "open": "Open",
    "in_progress": "In progress",
    "resolved": "Resolved",
    "closed": "Closed without action",
}
CANDIDATES = 300  # the team's newest records looked at for concerns raised
MEETINGS = 50


def _team(code: str) -> Team:
    """The team named, if this user may write its priorities: 404 for no such team, a 403 in
    plain words for a team that is not theirs (team codes are public: the public pages)."""
    team = db.session.scalar(
        sa.select(Team).where(Team.code == code.strip().upper()[:20], Team.active.is_(True))
    )
    if team is None:
        raise PageNotFound()
    try:
        check_may_write(signed_in(), team)
    except PriorityForbidden as exc:
        raise PageForbidden(description=str(exc)) from exc
    return team


@dataclass
class Row:
    record: Record
    title: str
    status: str
    owner: str
    concerns: int
    actions: int
    feedback: int


def _linked_counts(team_id: int, ids: list[str]) -> dict[str, tuple[int, int]]:
    """Per priority: (actions, feedback) of the team's live records that name it."""
    counts: dict[str, list[int]] = {}
    if not ids:
        return {}
    link = Record.data["priority_id"].as_string()
    for priority_id, kind, n in db.session.execute(
        sa.select(link, Record.kind, sa.func.count())
        .where(Record.team_id == team_id, Record.deleted.is_(False), link.in_(ids))
        .group_by(link, Record.kind)
    ):
        both = counts.setdefault(priority_id, [0, 0])
        both[1 if kind == "feedback" else 0] += n
    return {k: (v[0], v[1]) for k, v in counts.items()}


def team_priorities(team: Team) -> list[Row]:
    records = list(
        db.session.scalars(
            sa.select(Record)
            .where(
                Record.team_id == team.id,
                Record.kind == PRIORITY,
                Record.deleted.is_(False),
                Record.restricted.is_(False),
            )
            .order_by(Record.occurred_at.desc(), Record.id)
        )
    )
    counts = _linked_counts(team.id, [r.id for r in records])
    owners = _names({r.data.get("owner_id") for r in records})
    concern_ids = {i for r in records for i in r.data.get("concern_record_ids") or ()}
    live = _team_ids(team.id, concern_ids)
    rows = []
    for r in records:
        actions, feedback = counts.get(r.id, (0, 0))
        rows.append(
            Row(
                record=r,
                title=r.data.get("title") or "",
                status=r.data.get("priority_status") or "open",
                owner=owners.get(r.data.get("owner_id") or 0, ""),
                concerns=sum(1 for i in r.data.get("concern_record_ids") or () if i in live),
                actions=actions,
                feedback=feedback,
            )
        )
    return rows


def _names(ids: set) -> dict[int, str]:
    wanted = [i for i in ids if type(i) is int]
    if not wanted:
        return {}
    return {
        u.id: u.display_name or u.username
        for u in db.session.scalars(sa.select(User).where(User.id.in_(wanted)))
    }


def _team_ids(team_id: int, ids: set[str]) -> set[str]:
    if not ids:
        return set()
    return set(
        db.session.scalars(
            sa.select(Record.id).where(
                Record.id.in_(sorted(ids)), Record.team_id == team_id, Record.deleted.is_(False)
            )
        )
    )


@dataclass
class Candidate:
    record: Record
    concerns: list[dict] = field(default_factory=list)


def meeting_choices(team: Team) -> list[Record]:
    return list(
        db.session.scalars(
            sa.select(Record)
            .where(
                Record.team_id == team.id,
                Record.kind.in_(MEETING_KINDS),
                Record.deleted.is_(False),
                Record.restricted.is_(False),
            )
            .order_by(Record.occurred_at.desc(), Record.id)
            .limit(MEETINGS)
        )
    )


def concern_choices(team: Team, chosen: list[str]) -> list[Candidate]:
    """The team's newest records that carry concerns, and any already chosen."""
    base = sa.select(Record).where(
        Record.team_id == team.id,
        Record.kind != PRIORITY,
        Record.deleted.is_(False),
        Record.restricted.is_(False),
    )
    recent = list(
        db.session.scalars(base.order_by(Record.occurred_at.desc(), Record.id).limit(CANDIDATES))
    )
    have = {r.id for r in recent}
    missing = [i for i in chosen if i not in have]
    if missing:
        recent += list(db.session.scalars(base.where(Record.id.in_(missing))))
    return [
        Candidate(r, [c for c in r.data.get("concerns") or [] if isinstance(c, dict)])
        for r in recent
        if r.data.get("concerns")
    ]


def _local_day(moment: datetime | str | None) -> str:
    if moment is None:
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(force_tz()).date().isoformat()


def form_values(data: dict[str, Any]) -> dict[str, Any]:
    """A stored priority's fields as the form holds them (typed, as the record stores them)."""
    return {
        "title": data.get("title") or "",
        "summary": data.get("summary") or "",
        "priority_status": data.get("priority_status") or "open",
        "closed_reason": data.get("closed_reason") or "",
        "closed_on": data.get("closed_on"),
        "occurred_at": data.get("occurred_at"),
        "review_by": data.get("review_by"),
        "owner_id": data.get("owner_id"),
        "meeting_id": data.get("meeting_id"),
        "concern_record_ids": list(data.get("concern_record_ids") or []),
        "public": bool(data.get("public")),
    }


def read_form(form, was: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The posted form as typed values, and what could not even be read."""
    errors: dict[str, list[str]] = {}

    def text(name: str) -> str:
        return (form.get(name) or "").strip()

    def day(name: str) -> str | None:
        return text(name) or None

    values: dict[str, Any] = {
        "title": text("title"),
        "summary": text("summary"),
        "priority_status": text("priority_status") or "open",
        "closed_reason": text("closed_reason"),
        "closed_on": day("closed_on"),
        "review_by": day("review_by"),
        "meeting_id": text("meeting_id") or None,
        "concern_record_ids": list(
            dict.fromkeys(v for v in form.getlist("concern_record_ids") if v)
        ),
        "public": form.get("public") == "yes",
    }
    owner = text("owner_id")
    values["owner_id"] = None
    if owner:
        try:
            values["owner_id"] = int(owner)
        except ValueError:
            errors["owner_id"] = ["Choose the owner from the list."]
        else:
            if not -(2**31) <= values["owner_id"] < 2**31:
                values["owner_id"] = None
                errors["owner_id"] = ["Choose the owner from the list."]
    set_on = text("set_on")
    try:
        values["occurred_at"] = _set_at(date.fromisoformat(set_on), was.get("occurred_at"))
    except ValueError:
        values["occurred_at"] = was.get("occurred_at")
        errors["occurred_at"] = ["Give the day the priority was set, as a date."]
    return values, errors


def _set_at(day: date, stored: str | None) -> str:
    """The set day as a time: the stored one if its day did not change, now if it is today,
    else midday that day in the force's time zone."""
    if stored and _local_day(stored) == day.isoformat():
        return stored
    now = datetime.now(timezone.utc)
    if day == now.astimezone(force_tz()).date():
        return now.isoformat()
    return datetime.combine(day, time(12), tzinfo=force_tz()).astimezone(timezone.utc).isoformat()


def _read_was(raw: str | None) -> dict[str, Any]:
    try:
        was = json.loads(raw or "{}")
    except ValueError:
        return {}
    return was if isinstance(was, dict) else {}


@bp.get("/priorities")
@login_required("supervisor", "admin", "panel")
def priorities_home():
    """The teams whose priorities this user keeps; one team goes straight to its page."""
    user = signed_in()
    if user.role == "panel":
        raise PageForbidden(
            description="Panel members see assessments only: local priorities are kept by "
            "supervisors and administrators."
        )
    teams = [t for t in visible_teams(visible_team_ids()) if t.active]
    if user.role == "supervisor":
        mine = user.team_ids() or set()
        teams = [t for t in teams if t.id in mine]
    if len(teams) == 1:
        return redirect(url_for(".team_page", code=teams[0].code))
    return render_template("console/priorities_teams.html", teams=teams)


@bp.get("/priorities/<code>")
@login_required("supervisor", "admin", "panel")
def team_page(code: str):
    team = _team(code)
    rows = team_priorities(team)
    log_read("view_priorities", "team", team.code, returned([r.record.id for r in rows]))
    return render_template(
        "console/priorities.html", team=team, rows=rows, status_words=STATUS_WORDS
    )


@bp.route("/priorities/<code>/new", methods=["GET", "POST"])
@login_required("supervisor", "admin", "panel")
def new_priority(code: str):
    team = _team(code)
    if request.method == "GET":
        values = form_values({"occurred_at": datetime.now(timezone.utc).isoformat()})
        return _form(team, None, values, {}, {})
    values, errors = read_form(request.form, {})
    if not errors:
        try:
            log_access("priority_create", "team", team.code, {"fields": _written(values)})
            saved = save_priority(signed_in(), team, values)
        except PriorityInvalid as exc:
            errors = exc.errors
        else:
            flash("Priority set. Phones get it on their next sync.", "ok")
            return redirect(url_for(".edit_priority", code=team.code, record_id=saved.record_id))
    return _form(team, None, values, {}, errors), 400


@bp.route("/priorities/<code>/<record_id>", methods=["GET", "POST"])
@login_required("supervisor", "admin", "panel")
def edit_priority(code: str, record_id: str):
    team = _team(code)
    record = db.session.get(Record, record_id[:36])
    if record is None or record.team_id != team.id or record.kind != PRIORITY or record.restricted:
        raise PageNotFound()
    stored = form_values(record.data or {})
    if request.method == "GET":
        return _form(team, record, stored, stored, {})
    was = _read_was(request.form.get("was")) or stored
    values, errors = read_form(request.form, was)
    base_rev = request.form.get("base_rev", type=int)
    if not errors:
        try:
            changed = [k for k, v in values.items() if was.get(k) != v]
            log_access("priority_edit", "record", record.id, {"fields": changed})
            saved = save_priority(
                signed_in(), team, values, record_id=record.id, base_rev=base_rev, was=was
            )
        except PriorityInvalid as exc:
            errors = exc.errors
        else:
            if saved.conflicts:
                words = ", ".join(saved.conflicts)
                flash(
                    "Saved, but a phone changed the same thing meanwhile "
                    f"({words}): both values are kept as a conflict to settle.",
                    "error",
                )
            else:
                flash("Priority saved. Phones get it on their next sync.", "ok")
            return redirect(url_for(".edit_priority", code=team.code, record_id=record.id))
    db.session.refresh(record)
    return _form(team, record, values, was, errors, base_rev=base_rev), 400


def _written(values: dict[str, Any]) -> list[str]:
    return sorted(k for k, v in values.items() if v not in (None, "", [], False))


def _form(
    team: Team,
    record: Record | None,
    values: dict[str, Any],
    was: dict[str, Any],
    errors: dict[str, list[str]],
    base_rev: int | None = None,
):
    officers = team_officers(team.id)
    meetings = meeting_choices(team)
    candidates = concern_choices(team, values.get("concern_record_ids") or [])
    log_read(
        "view_priority",
        "record" if record else "team",
        record.id if record else team.code,
        {"candidates": returned([c.record.id for c in candidates])},
    )
    return render_template(
        "console/priority_form.html",
        team=team,
        record=record,
        values=values,
        set_on=_local_day(values.get("occurred_at")),
        was_json=json.dumps(was, sort_keys=True),
        base_rev=base_rev if base_rev is not None else (record.rev if record else None),
        errors=errors,
        officers=officers,
        meetings=meetings,
        candidates=candidates,
        statuses=[(s, STATUS_WORDS[s]) for s in PRIORITY_STATUSES],
        categories={c["code"]: c["title"] for c in vocabularies().concern_categories},
        kinds={k["code"]: k["title"] for k in vocabularies().kinds},
        general=errors.get("_record") or errors.get("_schema") or [],
    )
