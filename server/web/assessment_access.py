"""Who may see assessments: supervisors (their teams), admins and the panel (the whole force).

The JSON API takes a device bearer token or a console session; pages take the console session.
The panel sees figures and the summaries of records a supervisor has approved (checked for
members of the public's names), never officer names. Viewing evidence (record
summaries) and exporting are written to the access log.
"""

from __future__ import annotations

from functools import wraps

from flask import g, request

from server.accounts.auth import authenticate_device
from server.db import db
from server.db.models import User
from server.errors import ApiError, Code
from server.web.audit import log_access
from server.web.session import current_user

ROLES = ("supervisor", "admin", "panel")


def api_user() -> User:
    """The caller of an assessment API: bearer token first, else the console session."""
    if request.headers.get("Authorization"):
        user, _device = authenticate_device()
    else:
        console_user = current_user()
        if console_user is None:
            raise ApiError(
                Code.UNAUTHENTICATED,
                "Sign in: send Authorization: Bearer <device token> or use the console.",
            )
        user = console_user
    if user.role not in ROLES:
        raise ApiError(Code.FORBIDDEN, f"Your role ({user.role}) cannot see assessments.")
    return user


def signed_in(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        g.user = api_user()
        return view(*args, **kwargs)

    return wrapper


WITHHELD = "Summary withheld until a supervisor has approved the record."


def anonymise(user: User) -> bool:
    return user.role == "panel"


def panel_summary(summary: str, review_state: str) -> str:
    """What the panel may read of a record's free text: only what a supervisor approved."""
    return summary if review_state == "approved" else WITHHELD


def audit(user: User, action: str, team_code: str, **detail) -> None:
    """Record a view of evidence or an export, and commit it now (reads have no other commit)."""
    log_access(action, "team", team_code, detail, user=user)
    db.session.commit()
