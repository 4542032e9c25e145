"""Signing in and out of the console, and the console's front door."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from server.accounts.auth import check_password, check_rate_limit, record_failure
from server.db import db
from server.db.models import User
from server.errors import ApiError
from server.oidc.client import (
    local_signin_allowed,
    provider_name,
    settings,
    signs_in_at_provider,
)
from server.web.audit import log_access
from server.web.session import CONSOLE_ROLES, current_user, safe_next, sign_in, sign_out

bp = Blueprint("console_signin", __name__, url_prefix="/console")


def home_for(user: User) -> str:
    return "/console/assessment" if user.role == "panel" else "/console/records"


@bp.get("/")
def index():
    """Send a signed-in user to their first page, anyone else to sign in."""
    user = current_user()
    return redirect(home_for(user) if user else url_for("console_signin.sign_in_page"))


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in_page():
    """The sign-in form; failures are rate limited per account and per address."""
    next_path = request.values.get("next", "")
    if request.method == "GET":
        user = current_user()
        if user is not None:
            return redirect(safe_next(next_path) if next_path else home_for(user))
        return _form("", next_path, None, 200)

    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    user = db.session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    try:
        check_rate_limit(username)
    except ApiError as exc:
        record_failure(username, user.id if user else None, via="console", reason="rate_limited")
        return _form(username, next_path, exc.message, 429, exc.headers)
    if not local_signin_allowed(username, user):
        record_failure(
            username, user.id if user else None, via="console", reason="local_signin_off"
        )
        return _form(
            username,
            next_path,
            f"Beatbook passwords are switched off: sign in with {provider_name()}.",
            403,
        )
    if not username or not check_password(user, password):
        record_failure(username, user.id if user else None, via="console")
        return _form(username, next_path, "Wrong username or password.", 401)
    if signs_in_at_provider(username, user):
        record_failure(username, user.id, via="console", reason="linked_to_provider")
        return _form(username, next_path, f"This account signs in with {provider_name()}.", 403)
    if user.role not in CONSOLE_ROLES:
        return _form(username, next_path, "Officers use the Beatbook app, not the console.", 403)
    if user.must_change_password:
        flash("Your password was reset. Choose a new one, then sign in with it.", "error")
        return redirect(url_for("console_accounts.password_page", username=user.username))
    sign_in(user)
    log_access("sign_in", "user", user.id, user=user)
    db.session.commit()
    return redirect(safe_next(next_path) if next_path else home_for(user))


def _form(username: str, next_path: str, error: str | None, status: int, headers=None):
    found = settings()
    page = render_template(
        "console/sign_in.html",
        next=next_path,
        username=username,
        error=error,
        sso_name=found.name if found else None,
        local=bool(current_app.config["LOCAL_SIGNIN"]),
        emergency=bool(current_app.config.get("EMERGENCY_ADMIN")),
    )
    return page, status, headers or {}


@bp.post("/sign-out")
def sign_out_page():
    """End the session (a POST with the CSRF token, so no page can sign anyone out)."""
    user = current_user()
    if user is not None:
        log_access("sign_out", "user", user.id, user=user)
        db.session.commit()
    sign_out()
    return redirect(url_for("console_signin.sign_in_page"))
