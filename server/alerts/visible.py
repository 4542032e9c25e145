"""Who sees which alerts, and dismissing one.

Supervisors see every alert of the teams they supervise (admins: every team); an officer sees
the alerts about them and the ones about their team as a whole, never another officer's. A
dismissed alert is gone for everyone: a supervisor has dealt with it, and the note says how.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from server.alerts.rules import Alert, team_alerts
from server.clock import utcnow
from server.db import db
from server.db.models import AlertDismissal, Team, User

NOTE_MAX = 500


class DismissError(ValueError):
    """A dismissal that cannot be made: no such alert now, or no note."""


class DismissForbidden(PermissionError):
    """The user may not dismiss this team's alerts."""


def teams_of(user: User) -> list[Team]:
    """The active teams whose alerts the user sees."""
    ids = user.team_ids()
    query = sa.select(Team).where(Team.active.is_(True)).order_by(Team.code)
    if ids is not None:
        query = query.where(Team.id.in_(ids))
    return list(db.session.scalars(query))


def dismissed(team_ids: list[int]) -> dict[tuple[int, str], AlertDismissal]:
    rows = db.session.scalars(sa.select(AlertDismissal).where(AlertDismissal.team_id.in_(team_ids)))
    return {(row.team_id, row.alert_id): row for row in rows}


def live(alerts: list[Alert]) -> list[Alert]:
    """The alerts no one has dismissed."""
    gone = dismissed(sorted({a.team_id for a in alerts}))
    return [a for a in alerts if (a.team_id, a.id) not in gone]


def for_user(user: User, now: datetime | None = None) -> list[Alert]:
    """The undismissed alerts this user sees (an officer: theirs and their team's)."""
    if user.role == "panel":
        return []
    return _visible_to(user, live(team_alerts(teams_of(user), now)))


# A pull's alerts are computed at most this often per team set and worker: a shift's phones
# pull every few minutes, and each fresh computation first catches the facts up with every
# push since the last (server/assessment/facts.py), which would put every pull in the queue
# behind the pushes. Dismissals are read fresh each time.
PHONE_ALERTS_TTL = timedelta(minutes=5)
_cache_lock = threading.Lock()


def _phone_team_alerts(teams: list[Team]) -> list[Alert]:
    cache = current_app.extensions.setdefault("beatbook.phone_alerts", {})
    key = tuple(sorted(t.id for t in teams))
    now = utcnow()
    with _cache_lock:
        hit = cache.get(key)
    if hit is not None and now - hit[0] < PHONE_ALERTS_TTL:
        return hit[1]
    alerts = team_alerts(teams, now)
    with _cache_lock:
        cache[key] = (now, alerts)
    return alerts


def for_phone(user: User) -> list[Alert]:
    """What a pull carries: the alerts the user sees, as of at most PHONE_ALERTS_TTL ago; a
    phone signed in as an admin (every team of the force) or a panel member gets none."""
    if user.role in ("admin", "panel"):
        return []
    return _visible_to(user, live(_phone_team_alerts(teams_of(user))))


def _visible_to(user: User, alerts: list[Alert]) -> list[Alert]:
    """An officer sees the alerts about them and about their team, never another officer's."""
    if user.role != "officer":
        return alerts
    return [a for a in alerts if a.officer_id in (None, user.id)]


def may_dismiss(user: User, team: Team) -> bool:
    if user.role == "admin":
        return True
    return user.role == "supervisor" and team.id in (user.team_ids() or set())


def dismiss(user: User, team: Team, alert_id: str, note: str, now: datetime | None = None):
    """Dismiss one of the team's alerts as it stands now; the caller commits (with its log)."""
    if not may_dismiss(user, team):
        raise DismissForbidden(
            f"Only a supervisor of {team.code} or an admin can dismiss its alerts."
        )
    note = note.strip()
    if not note:
        raise DismissError("Say in a note why the alert can be dismissed.")
    if len(note) > NOTE_MAX:
        raise DismissError(f"The note is {len(note)} characters long: at most {NOTE_MAX}.")
    alert = next((a for a in team_alerts([team], now) if a.id == alert_id), None)
    if alert is None:
        raise DismissError("That alert is no longer raised: the page was out of date.")
    if (team.id, alert_id) in dismissed([team.id]):
        raise DismissError("That alert was dismissed already.")
    row = AlertDismissal(team_id=team.id, alert_id=alert_id, note=note, dismissed_by_id=user.id)
    db.session.add(row)
    return alert, row
