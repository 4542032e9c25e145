"""Activity at a glance: who is logging, who has gone quiet, and phones that may hold unsynced
work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Blueprint, current_app, render_template, request

from server.clock import utcnow
from server.console.options import visible_teams
from server.db import db
from server.db.models import Device, Record, Team, User
from server.web.audit import log_read
from server.web.session import login_required, visible_team_ids

bp = Blueprint("console_activity", __name__, url_prefix="/console")

MAX_DAYS = 365
PENDING_QUIET_HOURS = 24


@dataclass
class TeamWeek:
    team: Team
    this_week: int
    last_week: int

    @property
    def change(self) -> int:
        return self.this_week - self.last_week


def _in_teams(column, team_ids: set[int] | None) -> list:
    if team_ids is None:
        return []
    return [column.in_(sorted(team_ids)) if team_ids else sa.false()]


def team_weeks(team_ids: set[int] | None, now: datetime) -> list[TeamWeek]:
    week_ago, fortnight_ago = now - timedelta(days=7), now - timedelta(days=14)
    rows = db.session.execute(
        sa.select(
            Record.team_id,
            sa.func.sum(sa.case((Record.occurred_at >= week_ago, 1), else_=0)),
            sa.func.sum(sa.case((Record.occurred_at < week_ago, 1), else_=0)),
        )
        .where(
            Record.occurred_at >= fortnight_ago,
            Record.occurred_at < now,
            Record.deleted.is_(False),
            *_in_teams(Record.team_id, team_ids),
        )
        .group_by(Record.team_id)
    )
    counts = {team_id: (int(this or 0), int(last or 0)) for team_id, this, last in rows}
    return [TeamWeek(t, *counts.get(t.id, (0, 0))) for t in visible_teams(team_ids)]


def quiet_officers(
    team_ids: set[int] | None, since: datetime
) -> list[tuple[User, datetime | None]]:
    """Active officers whose last synced record arrived before `since` (or never)."""
    last = (
        sa.select(sa.func.max(Record.created_at))
        .where(Record.officer_id == User.id)
        .correlate(User)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(User, last.label("last"))
        .where(User.role == "officer", User.active.is_(True), *_in_teams(User.team_id, team_ids))
        .where(sa.or_(last.is_(None), last < since))
        .order_by(last.asc().nulls_first(), User.display_name)
    )
    return [(user, when) for user, when in rows]


def _device_query(team_ids: set[int] | None, now: datetime) -> sa.Select:
    return (
        sa.select(Device, User)
        .join(User, User.id == Device.user_id)
        .where(
            Device.revoked_at.is_(None),
            User.active.is_(True),
            User.role == "officer",
            sa.or_(Device.expires_at.is_(None), Device.expires_at > now),
            *_in_teams(User.team_id, team_ids),
        )
    )


def stale_devices(team_ids: set[int] | None, now: datetime, since: datetime) -> list:
    # A phone that has never synced counts from when it signed in: one signed in this morning
    # is not "not synced for a week".
    query = _device_query(team_ids, now).where(
        sa.func.coalesce(Device.last_sync_at, Device.created_at) < since
    )
    return list(db.session.execute(query.order_by(Device.last_sync_at.asc().nulls_first())))


def silent_with_pending(team_ids: set[int] | None, now: datetime, since: datetime) -> list:
    """Phones whose last sync said they still had unsynced changes, and that have not synced
    since."""
    query = _device_query(team_ids, now).where(Device.pending > 0, Device.last_sync_at < since)
    return list(db.session.execute(query.order_by(Device.last_sync_at.asc())))


@bp.get("/activity")
@login_required("supervisor", "admin")
def activity_page():
    """Per team this week against last, quiet officers and devices, and phones holding work."""
    days = request.args.get("days", type=int) or current_app.config["QUIET_DAYS"]
    days = max(1, min(days, MAX_DAYS))
    hours = request.args.get("hours", type=int) or PENDING_QUIET_HOURS
    hours = max(1, min(hours, MAX_DAYS * 24))
    team_ids = visible_team_ids()
    now = utcnow()
    quiet_since = now - timedelta(days=days)
    officers = quiet_officers(team_ids, quiet_since)
    stale = stale_devices(team_ids, now, quiet_since)
    holding = silent_with_pending(team_ids, now, now - timedelta(hours=hours))
    # Who is quiet, and which phones hold unsynced work, is personal data about officers.
    log_read(
        "view_activity",
        "users",
        "",
        {
            "days": days,
            "hours": hours,
            "officers": [user.id for user, _ in officers],
            "devices": sorted({row[0].id for row in (*stale, *holding)}),
        },
    )
    return render_template(
        "console/activity.html",
        weeks=team_weeks(team_ids, now),
        officers=officers,
        stale=stale,
        holding=holding,
        days=days,
        hours=hours,
        now=now,
    )
