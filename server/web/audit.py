"""The access log (DPA 2018 Part 3 s.62): who viewed, exported or changed what, and when.

Rows are only ever added; the app has no path that updates or deletes one.
"""

from __future__ import annotations

from flask import request
from sqlalchemy import event
from sqlalchemy.orm import Session

from server.db import db
from server.db.access_log import add_entry
from server.db.models import AccessLog, User
from server.web.session import current_user, session_ref


def log_access(
    action: str,
    target_type: str = "",
    target_id: object = "",
    detail: dict | None = None,
    *,
    user: User | None = None,
) -> AccessLog:
    """Add an access log row to the session; the caller's commit writes it with the action."""
    who = user or current_user()
    row = AccessLog(
        user_id=who.id if who else None,
        action=action,
        target_type=target_type,
        target_id=str(target_id)[:80],
        detail=detail or {},
        address=(request.remote_addr or "")[:64],
        session_id=session_ref(),
    )
    db.session.add(row)
    return row


def log_read(
    action: str, target_type: str = "", target_id: object = "", detail: dict | None = None
) -> None:
    """Log a console page's consultation of personal data; it is committed after the page is
    rendered and before it is sent (server.db.access_log.commit_logged_reads)."""
    who = current_user()
    add_entry(
        action,
        user_id=who.id if who else None,
        target_type=target_type,
        target_id=target_id,
        detail=detail,
        session_id=session_ref(),
    )


class AccessLogImmutable(RuntimeError):
    """Something tried to change or remove an access log entry."""


@event.listens_for(Session, "before_flush")
def _refuse_access_log_edits(session: Session, _context, _instances) -> None:
    # A guard for the app's own code: entries are written once and never touched again.
    for instance in (*session.dirty, *session.deleted):
        if isinstance(instance, AccessLog) and (
            instance in session.deleted or session.is_modified(instance)
        ):
            raise AccessLogImmutable("Access log entries cannot be changed or deleted.")
