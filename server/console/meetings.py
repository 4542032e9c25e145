"""Announcing a team's coming meetings for its public page (supervisors and admins).

A record can only describe what happened, so planned meetings are kept apart: a kind, a local
start time and a title written for the public.
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone

from flask import Blueprint, flash, redirect, render_template, request, url_for

from server.assessment.grid import AssessmentError, force_tz, visible_teams
from server.assessment.periods import to_local
from server.catalogues import vocabularies
from server.clock import utcnow
from server.db import db
from server.db.models import PlannedMeeting, Team
from server.web.audit import log_access
from server.web.error_pages import PageNotFound
from server.web.session import current_user, login_required, signed_in

bp = Blueprint("meetings", __name__, url_prefix="/console/assessment")
TITLE_MAX = 200


def _team(code: str) -> Team:
    try:
        return visible_teams(current_user(), code)[0]
    except AssessmentError as exc:
        raise PageNotFound() from exc


def meeting_kinds() -> list[dict]:
    return [k for k in vocabularies().kinds if k.get("meeting")]


def parse_meeting(form, now: datetime) -> tuple[dict, list[str]]:
    """Form fields -> (values, problems). The time is local (the force's zone)."""
    problems = []
    kind = form.get("kind", "")
    if kind not in {k["code"] for k in meeting_kinds()}:
        problems.append("Choose the kind of meeting.")
    title = (form.get("title") or "").strip()
    if not title or len(title) > TITLE_MAX:
        problems.append(f"Give the meeting a title for the public (up to {TITLE_MAX} characters).")
    starts = None
    try:
        day = date.fromisoformat(form.get("date", ""))
        clock = time.fromisoformat(form.get("time", ""))
        local = datetime.combine(day, clock, tzinfo=force_tz())
        starts = local.astimezone(timezone.utc).replace(tzinfo=None)
    except ValueError:
        problems.append("Give the date and time it starts.")
    if starts is not None and starts <= now:
        problems.append("That time has passed: only coming meetings are announced.")
    # Announcing it here publicises it; a leaflet or post may have done so days before.
    publicised = now
    if form.get("publicised"):
        try:
            since = datetime.combine(date.fromisoformat(form["publicised"]), time(), force_tz())
            publicised = min(now, since.astimezone(timezone.utc).replace(tzinfo=None))
        except ValueError:
            problems.append("Give the day it was first publicised as a date, or leave it empty.")
    values = {"kind": kind, "title": title, "starts_at": starts, "publicised_at": publicised}
    return values, problems


@bp.route("/teams/<code>/meetings", methods=["GET", "POST"])
@login_required("supervisor", "admin")
def meetings(code: str):
    team = _team(code)
    now = utcnow()
    values: dict = {}
    if request.method == "POST":
        values, problems = parse_meeting(request.form, now)
        if problems:
            for problem in problems:
                flash(problem, "error")
        else:
            meeting = PlannedMeeting(team_id=team.id, created_by_id=signed_in().id, **values)
            db.session.add(meeting)
            db.session.flush()
            log_access(
                "assessment.meeting_add",
                "planned_meeting",
                meeting.id,
                {"team": team.code, "starts_at": values["starts_at"].isoformat()},
            )
            db.session.commit()
            flash("Meeting announced on the team's public page.", "ok")
            return redirect(url_for("meetings.meetings", code=team.code))
    upcoming = db.session.scalars(PlannedMeeting.upcoming(team.id, now)).all()
    return render_template(
        "assessment/meetings.html",
        team=team,
        upcoming=upcoming,
        kinds=meeting_kinds(),
        values=values,
        local=lambda t: to_local(t, force_tz()),
    ), 400 if values and request.method == "POST" else 200


@bp.post("/teams/<code>/meetings/<int:meeting_id>/cancel")
@login_required("supervisor", "admin")
def cancel_meeting(code: str, meeting_id: int):
    team = _team(code)
    meeting = db.session.get(PlannedMeeting, meeting_id)
    if meeting is None or meeting.team_id != team.id:
        raise PageNotFound()
    meeting.cancelled = True
    log_access("assessment.meeting_cancel", "planned_meeting", meeting.id, {"team": team.code})
    db.session.commit()
    flash("Meeting taken off the public page.", "ok")
    return redirect(url_for("meetings.meetings", code=team.code))
