"""The public page of each team at /teams/<code> (and /teams/<code>.json): no sign-in.

What the team did this month and this quarter: counts by kind, meetings held and coming up,
groups reached, and "you said, we did" feedback the team marked public. Never an officer's name,
never free text unless marked public (and approved by a supervisor), never a place: the team's
area is the finest location shown.

The counts follow the catalogue's rule for which records count, as the assessment does
(docs/standards.md, "Which records count"): deleted records never; records not yet reviewed by a
supervisor do (Dorset's rule: the team is judged on what it did, not on how fast it is
reviewed); returned ones only if `returned_records_count`. The page says so, and how many of its
records are not reviewed yet. An unknown team code gets a page of its own, linking to the list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import Blueprint, jsonify, redirect, render_template, url_for

from schema.catalogue import Catalogue
from server.assessment import loop
from server.assessment.grid import AssessmentError, catalogue_for, force_tz
from server.assessment.periods import Period, containing_moment, to_local
from server.catalogues import catalogues, vocabularies
from server.clock import utcnow
from server.db import db
from server.db.models import PlannedMeeting, Record, RecordGroup, Team
from server.errors import ApiError, Code
from server.records import codes as record_codes

bp = Blueprint("public", __name__, url_prefix="/teams")
FEEDBACK_SHOWN = 10
PRIORITIES_SHOWN = 10
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
    not_reviewed: int = 0  # of the engagements, those no supervisor has reviewed yet
    audience: int = 0  # of `people`, those reached by broadcast kinds (posts, alerts): not met


class TeamNotFound(Exception):
    """No active team with that code."""


def _catalogue(period: Period) -> Catalogue:
    try:
        return catalogue_for(period)
    except AssessmentError:  # before the first version took effect: today's rule
        return catalogues().current


def _shown(team: Team, period: Period) -> list:
    """The catalogue's counted records (sql.py Scope.counted, on the record table)."""
    conditions = [
        Record.team_id == team.id,
        Record.deleted == sa.false(),
        Record.restricted == sa.false(),  # restricted records stay off the public page
        Record.kind != loop.PRIORITY,  # not an engagement: "You said, we did" shows them
        Record.occurred_at >= period.start_utc,
        Record.occurred_at < period.end_utc,
    ]
    if not _catalogue(period).returned_records_count:
        conditions.append(Record.review_state != "returned")
    return conditions


def counting_rule(period: Period) -> str:
    """What the page counts, in the catalogue's own terms."""
    catalogue = _catalogue(period)
    name = " ".join(p for p in (catalogue.raw.get("force"), catalogue.raw.get("title")) if p)
    returned = (
        "records a supervisor sent back for correction count too"
        if catalogue.returned_records_count
        else "records a supervisor sent back for correction are left out until they are fixed"
    )
    return (
        f"These figures count records as {name or 'the force’s standards'} does: records a "
        f"supervisor has not reviewed yet are included, {returned}, and deleted records never "
        "count."
    )


# Waiting for a supervisor: neither approved nor sent back (a fixed, resubmitted one waits too).
_not_reviewed = Record.review_state.not_in(("approved", "returned"))


def summarise(team: Team, period: Period) -> Summary:
    vocab = vocabularies()
    where = _shown(team, period)
    rows = db.session.execute(
        sa.select(
            Record.kind,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(Record.people_count), 0),
            sa.func.coalesce(sa.func.sum(sa.case((_not_reviewed, 1), else_=0)), 0),
        )
        .where(*where)
        .group_by(Record.kind)
    ).all()
    by_kind = sorted(((kind, count) for kind, count, _, _ in rows), key=lambda r: (-r[1], r[0]))
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
    record_codes.catch_up()
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
    people = sum(int(p) for _, _, p, _ in rows)
    waiting = sum(int(n) for _, _, _, n in rows)
    broadcast = {k["code"] for k in vocab.kinds if k.get("broadcast")}
    audience = sum(int(p) for kind, _, p, _ in rows if kind in broadcast)
    return Summary(period, by_kind, people, meetings, total, groups, waiting, audience)


STATUS_WORDS = {
    "open": "Open: we are working on it",
    "in_progress": "In progress",
    "resolved": "Resolved",
    "closed": "Closed without further action",
}


def _quotable(record) -> bool:
    """Free text the page may quote: marked public, approved by a supervisor, not restricted
    (restricted records are not read at all) and not removed under retention or erasure."""
    return record.public and record.review_state == "approved" and not record.redacted


def _joined(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def priorities(team: Team, since: datetime, now: datetime) -> list[dict]:
    """'You said, we did' for each priority set from the public's concerns and not ended before
    `since`: what it is (its title only when marked public and approved, else the concerns'
    categories), its status, the kinds of action taken and when, and the public feedback.
    Never a name, a place, a phrase of a concern or a closing reason."""
    tz = force_tz()
    period = containing_moment(now, "quarter", tz)
    found = loop.priorities(
        [team.id],
        _catalogue(period),
        tz,
        now,
        to_local(since, tz).date(),
        linked_until=now,
        concerns=True,
        extra=[Record.restricted == sa.false()],  # nor its actions, feedback or concerns
    )
    title = vocabularies().title
    shown = []
    for p in sorted(found, key=lambda p: p.occurred_at, reverse=True):
        categories = list(dict.fromkeys(c.category for c in p.concerns))
        if not categories:  # not set from the public's concerns
            continue
        about = [title(c) for c in categories]
        shown.append(
            {
                "id": p.id,
                "title": p.title if _quotable(p) and p.title.strip() else None,
                "heading": p.title if _quotable(p) and p.title.strip() else _joined(about),
                "concerns": [{"code": c, "title": t} for c, t in zip(categories, about)],
                "status": p.status,
                "status_words": STATUS_WORDS.get(p.status, p.status),
                "set_on": p.set_day,
                "ended_on": p.ended_on,
                "actions": [
                    {"kind": a.kind, "date": to_local(a.occurred_at, tz).date()} for a in p.actions
                ],
                "feedback": [
                    {"id": f.id, "date": to_local(f.occurred_at, tz).date(), "text": f.summary}
                    for f in p.feedback
                    if _quotable(f)
                ],
            }
        )
    return shown[:PRIORITIES_SHOWN]


def feedback(team: Team, since: datetime, besides: Iterable[str] = ()) -> list[dict]:
    """'You said, we did': feedback the team marked public and a supervisor approved (but not
    `besides`, shown under its priority)."""
    rows = db.session.execute(
        sa.select(Record.occurred_at, Record.summary)
        .where(
            Record.id.not_in(list(besides)),
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
    rows = db.session.scalars(PlannedMeeting.upcoming(team.id, now).limit(MEETINGS_SHOWN))
    tz = force_tz()
    return [{"starts": to_local(m.starts_at, tz), "kind": m.kind, "title": m.title} for m in rows]


def public_view(code: str, now: datetime | None = None) -> dict:
    team = db.session.scalar(
        sa.select(Team).where(Team.code == code.strip().upper(), Team.active == sa.true())
    )
    if team is None:
        raise TeamNotFound(code)
    now = now or utcnow()
    tz = force_tz()
    month = containing_moment(now, "month", tz)
    quarter = containing_moment(now, "quarter", tz)
    since = quarter.previous().start_utc
    loops = priorities(team, since, now)
    return {
        "team": team,
        "month": summarise(team, month),
        "quarter": summarise(team, quarter),
        "coming_up": coming_up(team, now),
        "priorities": loops,
        "feedback": feedback(team, since, [f["id"] for p in loops for f in p["feedback"]]),
        "counting_rule": counting_rule(quarter),
    }


def _json(view: dict) -> dict:
    title = vocabularies().title

    def block(s: Summary) -> dict:
        return {
            "period": {"label": s.period.label, "title": s.period.title},
            "engagements": sum(n for _, n in s.by_kind),
            "not_yet_reviewed": s.not_reviewed,
            "people_reached": s.people,
            "people_spoken_with": s.people - s.audience,
            "audience_reached": s.audience,
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
        "priorities": [
            {
                "title": p["title"],
                "about": p["heading"],
                "concerns": p["concerns"],
                "status": p["status"],
                "status_words": p["status_words"],
                "set_on": p["set_on"].isoformat(),
                "ended_on": p["ended_on"].isoformat() if p["ended_on"] else None,
                "actions": [
                    {"kind": a["kind"], "title": title(a["kind"]), "date": a["date"].isoformat()}
                    for a in p["actions"]
                ],
                "feedback": [
                    {"date": f["date"].isoformat(), "text": f["text"]} for f in p["feedback"]
                ],
            }
            for p in view["priorities"]
        ],
        "counting_rule": view["counting_rule"],
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
    try:
        view = public_view(code)
    except TeamNotFound:
        page = render_template("assessment/public_not_found.html", code=code.strip().upper())
        return page, 404
    return render_template("assessment/public.html", **view), 200, {"Cache-Control": CACHE}


@bp.get("/<code>.json")
def team_json(code: str):
    try:
        view = public_view(code)
    except TeamNotFound:
        raise ApiError(Code.NOT_FOUND, "No active team with that code: see /teams.") from None
    response = jsonify(_json(view))
    response.headers["Cache-Control"] = CACHE
    return response
