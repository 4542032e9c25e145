"""Teams and people: officers, their moves between teams, deactivation, and their devices."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for

from server.accounts.passwords import set_active
from server.accounts.people import MIN_PASSWORD, PeopleError, add_user
from server.clock import utcnow
from server.console.accounts import repeated_failures
from server.console.options import visible_teams
from server.db import db
from server.db.models import Device, Team, User
from server.web.audit import log_access, log_read
from server.web.error_pages import PageNotFound
from server.web.session import (
    current_user,
    login_required,
    safe_next,
    session_ref,
    signed_in,
    visible_team_ids,
)

bp = Blueprint("console_people", __name__, url_prefix="/console")


def _team_visible(team_id: int | None) -> bool:
    team_ids = visible_team_ids()
    return team_ids is None or team_id in team_ids


def managed_officer(user_id: int) -> User:
    """An officer in one of the user's teams; 404 otherwise."""
    user = db.session.get(User, user_id)
    if user is None or user.role != "officer" or not _team_visible(user.team_id):
        raise PageNotFound()
    return user


def chosen_team(raw: str) -> Team | None:
    team = db.session.scalar(sa.select(Team).where(Team.code == raw.strip().upper()))
    return team if team is not None and _team_visible(team.id) else None


def device_summary(user_ids: list[int]) -> dict[int, tuple[int, object]]:
    """user id -> (devices in use, last sync of any of them)."""
    if not user_ids:
        return {}
    rows = db.session.execute(
        sa.select(Device.user_id, sa.func.count(), sa.func.max(Device.last_sync_at))
        .where(Device.user_id.in_(user_ids), Device.revoked_at.is_(None))
        .group_by(Device.user_id)
    )
    return {user_id: (count, last) for user_id, count, last in rows}


@bp.get("/teams")
@login_required("supervisor", "admin")
def teams_page():
    """Each team the user may see with its supervisors and officers."""
    teams = visible_teams(visible_team_ids())
    team_ids = [t.id for t in teams]
    people = (
        list(
            db.session.scalars(
                sa.select(User)
                .where(User.team_id.in_(team_ids), User.role.in_(("officer", "supervisor")))
                .order_by(User.role.desc(), User.display_name)
            )
        )
        if team_ids
        else []
    )
    by_team: dict[int, list[User]] = {t.id: [] for t in teams}
    for person in people:
        by_team[person.team_id].append(person)
    devices = device_summary([p.id for p in people])
    failures = repeated_failures([p.username for p in people])
    log_read(
        "view_people",
        "team",
        "",
        {"teams": [t.code for t in teams], "people": [p.id for p in people]},
    )
    return render_template(
        "console/teams.html",
        teams=teams,
        by_team=by_team,
        devices=devices,
        failures=failures,
        now=utcnow(),
        min_password=MIN_PASSWORD,
    )


@bp.post("/people")
@login_required("supervisor", "admin")
def add_officer():
    """Add an officer to one of the user's teams."""
    team = chosen_team(request.form.get("team", ""))
    if team is None:
        flash("Choose one of your teams for the new officer.", "error")
        return redirect(url_for("console_people.teams_page"))
    username = request.form.get("username", "").strip().lower()
    log_access("add_officer", "user", username, {"team": team.code})
    try:
        user = add_user(
            username,
            request.form.get("password", ""),
            "officer",
            team.code,
            request.form.get("display_name", ""),
        )
    except PeopleError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("console_people.teams_page"))
    flash(f"{user.display_name} added to {team.code}. Give them their password in person.", "ok")
    return redirect(url_for("console_people.person_page", user_id=user.id))


@bp.get("/people/<int:user_id>")
@login_required("supervisor", "admin")
def person_page(user_id: int):
    """An officer: their team, their devices (last sync, pending, clock, app) and actions."""
    officer = managed_officer(user_id)
    devices = list(
        db.session.scalars(
            sa.select(Device)
            .where(Device.user_id == officer.id)
            .order_by(
                Device.revoked_at.is_not(None), Device.last_sync_at.desc(), Device.created_at.desc()
            )
        )
    )
    log_read("view_person", "user", officer.id, {"devices": [d.id for d in devices]})
    return render_template(
        "console/person.html",
        officer=officer,
        devices=devices,
        teams=visible_teams(visible_team_ids()),
        now=utcnow(),
    )


@bp.post("/people/<int:user_id>/move")
@login_required("supervisor", "admin")
def move_officer(user_id: int):
    """Move an officer to another of the user's teams; their old records stay with the old team."""
    officer = managed_officer(user_id)
    team = chosen_team(request.form.get("team", ""))
    if team is None:
        flash("Choose one of your teams.", "error")
    elif team.id != officer.team_id:
        log_access(
            "move_officer",
            "user",
            officer.id,
            {"from": officer.team.code if officer.team else None, "to": team.code},
        )
        officer.team_id = team.id
        db.session.commit()
        flash(f"{officer.display_name} moved to {team.code}.", "ok")
    if not _team_visible(officer.team_id):
        return redirect(url_for("console_people.teams_page"))
    return redirect(url_for("console_people.person_page", user_id=officer.id))


@bp.post("/people/<int:user_id>/active")
@login_required("supervisor", "admin")
def set_officer_active(user_id: int):
    """Deactivate (every device stops syncing at once) or reactivate an officer."""
    officer = managed_officer(user_id)
    active = request.form.get("active") == "yes"
    if officer.active != active:
        set_active(current_user(), officer, active, session_id=session_ref())
        word = "reactivated" if active else "deactivated; every device of theirs is signed out"
        flash(f"{officer.display_name} {word}.", "ok")
    return redirect(url_for("console_people.person_page", user_id=officer.id))


def _may_revoke(device: Device) -> bool:
    """Supervisors revoke their teams' officers' phones; admins any phone (a supervisor's or an
    admin's phone syncs too, and an admin's holds restricted records)."""
    return _is_admin() or (device.user.role == "officer" and _team_visible(device.user.team_id))


def _is_admin() -> bool:
    user = current_user()
    return user is not None and user.role == "admin"


@bp.post("/devices/<device_id>/revoke")
@login_required("supervisor", "admin")
def revoke_device(device_id: str):
    """Revoke a lost phone's token now: its next sync gets 401 token_revoked."""
    device = db.session.get(Device, device_id[:32])
    if device is None or not _may_revoke(device):
        raise PageNotFound()
    if device.revoked_at is None:
        log_access(
            "revoke_device",
            "device",
            device.id,
            {"user": device.user.username, "pending": device.pending},
        )
        device.revoked_at = utcnow()
        device.revoked_by_id = signed_in().id
        db.session.commit()
        flash(f"{device.name} revoked. It cannot sync again until the officer signs in anew.", "ok")
    if request.form.get("next"):
        return redirect(safe_next(request.form["next"]))
    return redirect(url_for("console_people.person_page", user_id=device.user_id))


@bp.get("/phones")
@login_required("supervisor", "admin")
def phones_page():
    """Every phone signed in by an officer of the user's teams (for an admin, every phone of
    every role): in use first, then (on asking) the revoked ones; each can be revoked here."""
    show_revoked = request.args.get("show") == "revoked"
    team_ids = visible_team_ids()
    query = (
        sa.select(Device, User)
        .join(User, User.id == Device.user_id)
        .order_by(User.display_name, User.username, Device.last_sync_at.desc())
    )
    if not _is_admin():
        query = query.where(User.role == "officer")
    if team_ids is not None:
        query = query.where(User.team_id.in_(sorted(team_ids)) if team_ids else sa.false())
    if not show_revoked:
        query = query.where(Device.revoked_at.is_(None))
    rows = list(db.session.execute(query))
    log_read(
        "view_phones",
        "devices",
        "",
        {"revoked": show_revoked, "devices": [device.id for device, _ in rows]},
    )
    return render_template(
        "console/phones.html", rows=rows, show_revoked=show_revoked, now=utcnow()
    )
