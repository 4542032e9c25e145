"""Console sign-in state: who is signed in, what they may see, and the page guard.

The session cookie holds the user id, when the session started, a CSRF token and the id of the
session's row on the server (server/accounts/sessions.py). Sessions end at sign-out (every
copy of the cookie), after SESSION_IDLE_MINUTES unused, after SESSION_HOURS whatever the
activity, and at once when the account is deactivated, its password changes, or it is made an
officer (checked on every request, not only at sign-in).
"""

from __future__ import annotations

import secrets
import time
from functools import wraps
from typing import Callable
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, session, url_for

from server.accounts.sessions import digest, end_session, session_alive, start_session
from server.db import db
from server.db.models import User
from server.web.error_pages import PageForbidden

CONSOLE_ROLES = ("supervisor", "admin", "panel")
_USER_KEY = "console_user_id"
_STARTED_KEY = "console_started"
_SESSION_KEY = "console_sid"  # the server-side session's id (server/accounts/sessions.py)


def sign_in(user: User) -> None:
    """Start a fresh session (a new CSRF token too, so a planted session cannot be reused)."""
    session.clear()
    session[_USER_KEY] = user.id
    session[_STARTED_KEY] = int(time.time())
    session[_SESSION_KEY] = start_session(user.id, (request.remote_addr or ""))
    session["csrf"] = secrets.token_urlsafe(32)
    session.permanent = False
    g.pop("console_user", None)


def sign_out() -> None:
    end_session(session.get(_SESSION_KEY))
    db.session.commit()
    session.clear()
    g.pop("console_user", None)


def _expired() -> bool:
    started = session.get(_STARTED_KEY)
    if not isinstance(started, int):
        return True
    return time.time() - started > current_app.config["SESSION_HOURS"] * 3600


def signed_in() -> User:
    """The console user of a view under `login_required`, which has made sure there is one."""
    user = current_user()
    if user is None:
        raise RuntimeError("signed_in() in a view without login_required")
    return user


def current_user() -> User | None:
    """The signed-in console user, or None (not signed in, expired, deactivated, or an officer)."""
    if "console_user" in g:
        return g.console_user
    user = None
    user_id = session.get(_USER_KEY)
    if user_id is not None:
        if _expired() or not session_alive(session.get(_SESSION_KEY), user_id):
            session.clear()
        else:
            found = db.session.get(User, user_id)
            if found is not None and found.active and found.role in CONSOLE_ROLES:
                user = found
            else:
                session.clear()
    g.console_user = user
    return user


def visible_team_ids() -> set[int] | None:
    """Team ids the signed-in user may see; None means the whole force (admin, panel)."""
    user = current_user()
    if user is None:
        return set()
    return user.team_ids()


def login_required(*roles: str) -> Callable:
    """Guard a console page: sign-in page when signed out, 403 for a role not in `roles`.

    With no roles, any console role (supervisor, admin, panel) may see the page; officers never can.
    """
    allowed = roles or CONSOLE_ROLES

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = current_user()
            if user is None:
                return redirect(
                    url_for("console_signin.sign_in_page", next=_safe_next(request.full_path))
                )
            if user.role not in allowed:
                raise PageForbidden()
            return view(*args, **kwargs)

        return wrapper

    return decorator


def _safe_next(path: str) -> str:
    """Only a path of this site (under /console/ or the app at /), so the sign-in page cannot
    redirect anywhere else. Browsers drop tabs and newlines from URLs (so "/<tab>/evil" is
    "//evil") and read a backslash as "/": anything with a control character, a backslash, a
    scheme, a host or a leading "//" falls back to the records page."""
    fallback = "/console/records"
    path = (path or "").rstrip("?")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F or ch == "\\" for ch in path):
        return fallback
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or path.startswith("//"):
        return fallback
    if not (parts.path == "/" or parts.path.startswith("/console/") or parts.path == "/console"):
        return fallback
    return path


safe_next = _safe_next


def current_session_id() -> str | None:
    """The signed-in session's server-side id (to keep it when ending a user's other sessions)."""
    return session.get(_SESSION_KEY)


def session_ref() -> str | None:
    """How the access log names the signed-in session: its stored digest, never the id."""
    sid = session.get(_SESSION_KEY)
    return digest(sid) if isinstance(sid, str) and sid else None
