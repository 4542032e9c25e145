"""The public page of each team at /teams/<code> (and /teams/<code>.json): no sign-in.

What the team did this month and this quarter: counts by kind, meetings held and coming up,
groups reached, and "you said, we did" feedback the team marked public. Never an officer's name,
never free text unless marked public (and approved by a supervisor), never a place: the team's
area is the finest location shown. Deleted and returned records never appear.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import Blueprint, abort, jsonify, redirect, render_template, url_for

from server.assessment.grid import force_tz
from server.assessment.periods import Period, containing_moment, to_local
from server.catalogues import vocabularies
from server.clock import utcnow
from server.db import db
from server.db.models import PlannedMeeting, Record, RecordGroup, Team

bp = Blueprint("public", __name__, url_prefix="/teams")
FEEDBACK_SHOWN = 10
MEETINGS_SHOWN = 12
CACHE = "public, max-age=300"


@dataclass
class Summary:
    period: Period
    by_kind: list[tuple[str, int]]  # (kind, engagements), most first
    people: int
    meetings: list[dict]  # {"date", "kind", "people"}: no place, no names
    meetings_total: int
    groups: list[dict]  # {"code", "title", "seldom_heard"}


def _shown(team: Team, period: Period) -> list:
    return [
        Record.team_id == team.id,
        Record.deleted == sa.false(),
        Record.restricted == sa.false(),  # restricted records stay off the public page
        Record.review_state != "returned",
        Record.occurred_at >= period.start_utc,
        Record.occurred_at < period.end_utc,
    ]


def summarise(team: Team, period: Period) -> Summary:
    vocab = vocabularies()
    where = _shown(team, period)
    rows = db.session.execute(
        sa.select(
            Record.kind, sa.func.count(), sa.func.coalesce(sa.func.sum(Record.people_count), 0)
        )
        .where(*where)
        .group_by(Record.kind)
    ).all()
    by_kind = sorted(((kind, count) for kind, count, _ in rows), key=lambda r: (-r[1], r[0]))
    meeting_kinds = [k["code"] for k in vocab.kinds if k.get("meeting")]
    held = sa.select(Record.occurred_at, Record.kind, Record.people_count).where(
        *where, Record.kind.in_(meeting_kinds)
    )
    meetings = [
        {"date": to_local(when, period.tz).date(), "kind": kind, "people": people}
        for when, kind, people in db.session.execute(
            held.order_by(Record.occurred_at.desc()).limit(MEETINGS_SHOWN)
        )
    ]
    total = db.session.scalar(sa.select(sa.func.count()).select_from(held.subquery()))
    codes = db.session.scalars(
        sa.select(RecordGroup.code)
        .join(Record, Record.id == RecordGroup.record_id)
        .where(*where)
        .group_by(RecordGroup.code)
    ).all()
    seldom = vocab.seldom_heard
    groups = sorted(
        ({"code": c, "title": vocab.title(c), "seldom_heard": c in seldom} for c in codes),
        key=lambda g: (not g["seldom_heard"], g["title"]),
    )
    return Summary(period, by_kind, sum(int(p) for _, _, p in rows), meetings, total, groups)


def feedback(team: Team, since: datetime) -> list[dict]:
    """'You said, we did': feedback the team marked public and a supervisor approved."""
    rows = db.session.execute(
        sa.select(Record.occurred_at, Record.summary)
        .where(
            Record.team_id == team.id,
            Record.kind == "feedback",
            Record.public == sa.true(),
            Record.review_state == "approved",
            Record.deleted == sa.false(),
            Record.restricted == sa.false(),
            Record.redaction.is_(None),  # nothing left to quote
            Record.occurred_at >= since,
        )
        .order_by(Record.occurred_at.desc())
        .limit(FEEDBACK_SHOWN)
    )
    tz = force_tz()
    return [{"date": to_local(when, tz).date(), "text": text} for when, text in rows]


def coming_up(team: Team, now: datetime) -> list[dict]:
    rows = db.session.scalars(
        sa.select(PlannedMeeting)
        .where(
            PlannedMeeting.team_id == team.id,
            PlannedMeeting.cancelled == sa.false(),
            PlannedMeeting.starts_at >= now,
        )
        .order_by(PlannedMeeting.starts_at)
        .limit(MEETINGS_SHOWN)
    )
    tz = force_tz()
    return [{"starts": to_local(m.starts_at, tz), "kind": m.kind, "title": m.title} for m in rows]


def public_view(code: str, now: datetime | None = None) -> dict:
    team = db.session.scalar(
        sa.select(Team).where(Team.code == code.strip().upper(), Team.active == sa.true())
    )
    if team is None:
        abort(404)
    now = now or utcnow()
    tz = force_tz()
    month = containing_moment(now, "month", tz)
    quarter = containing_moment(now, "quarter", tz)
    return {
        "team": team,
        "month": summarise(team, month),
        "quarter": summarise(team, quarter),
        "coming_up": coming_up(team, now),
        "feedback": feedback(team, quarter.previous().start_utc),
    }


def _json(view: dict) -> dict:
    title = vocabularies().title

    def block(s: Summary) -> dict:
        return {
            "period": {"label": s.period.label, "title": s.period.title},
            "engagements": sum(n for _, n in s.by_kind),
            "people_reached": s.people,
            "by_kind": [{"kind": k, "title": title(k), "count": n} for k, n in s.by_kind],
            "meetings_held": s.meetings_total,
            "meetings": [
                {
                    "date": m["date"].isoformat(),
                    "kind": m["kind"],
                    "title": title(m["kind"]),
                    "people": m["people"],
                }
                for m in s.meetings
            ],
            "groups_reached": s.groups,
        }

    team = view["team"]
    return {
        "team": {"code": team.code, "name": team.name, "area": team.area},
        "month": block(view["month"]),
        "quarter": block(view["quarter"]),
        "coming_up": [
            {"starts": m["starts"].isoformat(), "kind": m["kind"], "title": m["title"]}
            for m in view["coming_up"]
        ],
        "you_said_we_did": [
            {"date": f["date"].isoformat(), "text": f["text"]} for f in view["feedback"]
        ],
    }


@bp.get("/")
def index_slash():
    """/teams/ is where people type the list; the list lives at /teams."""
    return redirect(url_for(".index"), 308)


@bp.get("")
def index():
    teams = db.session.scalars(sa.select(Team).where(Team.active == sa.true()).order_by(Team.name))
    return (
        render_template("assessment/public_index.html", teams=list(teams)),
        200,
        {"Cache-Control": CACHE},
    )


@bp.get("/<code>")
def team_page(code: str):
    view = public_view(code)
    return render_template("assessment/public.html", **view), 200, {"Cache-Control": CACHE}


@bp.get("/<code>.json")
def team_json(code: str):
    response = jsonify(_json(public_view(code)))
    response.headers["Cache-Control"] = CACHE
    return response
