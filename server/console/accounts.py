"""Passwords and accounts in the console (issue 11 items 6 and 9).

- /console/password: anyone (officers too, who have no console session) changes their own
  password with the current one; a user whose password an admin reset is sent here first.
- /console/users (admins): every account of every role, with password reset and
  deactivation, and each account's recent failed sign-ins.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for

from server.accounts.auth import check_rate_limit, record_failure
from server.accounts.passwords import change_password, reset_password, set_active
from server.accounts.people import MIN_PASSWORD, PeopleError
from server.clock import utcnow
from server.db import db
from server.db.models import AccessLog, User
from server.errors import ApiError
from server.web.audit import log_access
from server.web.error_pages import PageNotFound
from server.web.session import (
    current_session_id,
    current_user,
    login_required,
    session_ref,
    signed_in,
)

bp = Blueprint("console_accounts", __name__, url_prefix="/console")
REPEATED_FAILURES = 3  # failed sign-ins in a day that a supervisor is shown
FAILURE_DAYS = 1


def failed_sign_ins(usernames: list[str], days: int = FAILURE_DAYS) -> dict[str, dict]:
    """username -> {count, last, addresses} of failed sign-ins in the last `days` (access log)."""
    if not usernames:
        return {}
    rows = db.session.execute(
        sa.select(
            AccessLog.target_id,
            sa.func.count(),
            sa.func.max(AccessLog.at),
            sa.func.count(sa.distinct(AccessLog.address)),
        )
        .where(
            AccessLog.action == "sign_in_failed",
            AccessLog.at >= utcnow() - timedelta(days=days),
            AccessLog.target_id.in_([u.lower() for u in usernames]),
        )
        .group_by(AccessLog.target_id)
    )
    return {
        name: {"count": count, "last": last, "addresses": addresses}
        for name, count, last, addresses in rows
    }


def repeated_failures(usernames: list[str]) -> dict[str, dict]:
    return {
        name: found
        for name, found in failed_sign_ins(usernames).items()
        if found["count"] >= REPEATED_FAILURES
    }


@bp.route("/password", methods=["GET", "POST"])
def password_page():
    """Change your own password (signed in, or with your username if you use the app)."""
    user = current_user()
    if request.method == "GET":
        return _password_form(user, request.args.get("username", ""), None, 200)
    username = user.username if user else request.form.get("username", "").strip()
    found = user or db.session.scalar(
        sa.select(User).where(sa.func.lower(User.username) == username.lower())
    )
    try:
        check_rate_limit(username)
    except ApiError as exc:
        record_failure(username, found.id if found else None, via="password", reason="rate_limited")
        return _password_form(user, username, exc.message, 429, exc.headers)
    current, new = request.form.get("current", ""), request.form.get("new", "")
    if found is None or not found.active:
        record_failure(username, None, via="password")
        return _password_form(user, username, "The current password is wrong.", 400)
    try:
        change_password(
            found,
            current,
            new,
            request.form.get("confirm", ""),
            keep_session=current_session_id() if user else None,
        )
    except PeopleError as exc:
        db.session.rollback()
        if "current password" in str(exc):
            record_failure(username, found.id, via="password")
        return _password_form(user, username, str(exc), 400)
    flash("Password changed." + ("" if user else " Sign in with the new one."), "ok")
    if user is None and found.role == "officer":
        return _password_form(None, username, None, 200, done=True)
    return redirect(
        url_for("console_signin.index") if user else url_for("console_signin.sign_in_page")
    )


def _password_form(
    user, username: str, error: str | None, status: int, headers=None, done: bool = False
):
    page = render_template(
        "console/password.html",
        user=user,
        username=username,
        error=error,
        min_password=MIN_PASSWORD,
        done=done,
    )
    return page, status, headers or {}


def _account(user_id: int) -> User:
    found = db.session.get(User, user_id)
    if found is None:
        raise PageNotFound()
    return found


@bp.get("/users")
@login_required("admin")
def users_page():
    """Every account: role, team, status, recent failed sign-ins; reset and deactivate."""
    users = list(db.session.scalars(sa.select(User).order_by(User.role, User.username)))
    log_access("view_users", "user", "", {"count": len(users)})
    db.session.commit()
    return render_template(
        "console/users.html",
        users=users,
        failures=failed_sign_ins([u.username for u in users]),
        me=current_user(),
        min_password=MIN_PASSWORD,
    )


@bp.post("/users/<int:user_id>/reset-password")
@login_required("admin")
def reset_user_password(user_id: int):
    account = _account(user_id)
    try:
        reset_password(
            signed_in(), account, request.form.get("password", ""), session_id=session_ref()
        )
    except PeopleError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(
            f"Password of {account.username} reset. Give them the temporary password in "
            "person: they must choose a new one before signing in. Their devices are signed "
            "out.",
            "ok",
        )
    return redirect(url_for("console_accounts.users_page"))


@bp.post("/users/<int:user_id>/active")
@login_required("admin")
def set_user_active(user_id: int):
    account = _account(user_id)
    active = request.form.get("active") == "yes"
    try:
        changed = set_active(current_user(), account, active, session_id=session_ref())
    except PeopleError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        if changed:
            word = "reactivated" if active else "deactivated; their sessions and devices are ended"
            flash(f"{account.username} {word}.", "ok")
    return redirect(url_for("console_accounts.users_page"))
