"""Alerts on the console: the panel on the first page (the records list), the full list, and
dismissing one with a note. Who sees and who may dismiss is server/alerts/visible.py's."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for

from server.alerts.rules import Alert
from server.alerts.visible import DismissError, DismissForbidden, dismiss, for_user
from server.assessment.grid import AssessmentError, force_tz
from server.assessment.periods import to_local
from server.clock import utcnow
from server.db import db
from server.db.models import Team
from server.web.audit import log_access, log_read
from server.web.error_pages import PageForbidden, PageNotFound
from server.web.session import login_required, signed_in

bp = Blueprint("console_alerts", __name__, url_prefix="/console")

PANEL_MAX = 12  # the first page shows the soonest; the rest are a click away


def local_today() -> date:
    """Today in the force's zone: an alert's date reads "due" ahead of it, "since" after."""
    return to_local(utcnow(), force_tz()).date()


def visible_alerts() -> list[Alert]:
    """The signed-in user's undismissed alerts, their consultation logged (they name officers
    and priorities)."""
    try:
        found = for_user(signed_in())
    except AssessmentError:  # no catalogue in force yet
        return []
    log_read("list_alerts", "alerts", "", {"alerts": [a.id for a in found]})
    return found


@bp.get("/alerts")
@login_required("supervisor", "admin")
def alerts_page():
    found = visible_alerts()
    return render_template("console/alerts.html", alerts=found, today=local_today())


@bp.post("/alerts/<code>/dismiss")
@login_required("supervisor", "admin")
def dismiss_alert(code: str):
    team = db.session.scalar(sa.select(Team).where(Team.code == code.strip().upper()[:20]))
    if team is None:
        raise PageNotFound()
    alert_id = (request.form.get("alert_id") or "")[:120]
    try:
        alert, row = dismiss(signed_in(), team, alert_id, request.form.get("note") or "")
    except DismissForbidden as exc:
        raise PageForbidden(description=str(exc)) from exc
    except DismissError as exc:
        flash(str(exc), "error")
        return redirect(_back(), 303)
    db.session.flush()
    log_access(
        "alert_dismiss",
        "alert",
        alert.id,
        {"team": team.code, "rule": alert.rule, "note": row.note, "dismissal": row.id},
    )
    db.session.commit()
    flash(f"Alert dismissed: {alert.title}", "ok")
    return redirect(_back(), 303)


def _back() -> str:
    """Where the form was: the first page or the alerts page (never another site)."""
    if request.form.get("back") == "alerts":
        return url_for("console_alerts.alerts_page")
    return url_for("console_records.records_page")
