"""Console sessions kept on the server (issue 11 item 7).

The signed cookie alone cannot be taken back: a copy made before sign-out would still open the
console. So the cookie holds a random session id, and every request checks its row here: not
ended, not idle for SESSION_IDLE_MINUTES, not older than SESSION_HOURS. Signing out ends the
row; deactivating an account or changing its password ends every row of that user.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from server.clock import utcnow
from server.db import db
from server.db.models import ConsoleSession, Device

# A request within a minute of the last one does not write: an idle limit needs no finer clock,
# and a page's every request writing a row would queue console reads behind pushes.
TOUCH_EVERY = timedelta(minutes=1)


def digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start_session(user_id: int, address: str = "") -> str:
    """A new session row for the user; returns the id for the cookie (added, not committed)."""
    session_id = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        ConsoleSession(
            id_hash=digest(session_id),
            user_id=user_id,
            started_at=now,
            last_seen_at=now,
            address=address[:64],
        )
    )
    return session_id


def session_alive(session_id: object, user_id: object) -> bool:
    """Whether the cookie's session is still open for this user; notes the activity."""
    if not isinstance(session_id, str) or not session_id:
        return False
    key = digest(session_id)
    # Columns, not the ORM object: every console request pays for this lookup.
    row = db.session.execute(
        select(
            ConsoleSession.user_id,
            ConsoleSession.started_at,
            ConsoleSession.last_seen_at,
            ConsoleSession.ended_at,
        ).where(ConsoleSession.id_hash == key)
    ).first()
    if row is None or row.ended_at is not None or row.user_id != user_id:
        return False
    now = utcnow()
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    if now - row.last_seen_at > idle:
        _end(key, "idle", now)
        return False
    if now - row.started_at > timedelta(hours=current_app.config["SESSION_HOURS"]):
        _end(key, "expired", now)
        return False
    if now - row.last_seen_at >= TOUCH_EVERY:
        db.session.execute(
            update(ConsoleSession).where(ConsoleSession.id_hash == key).values(last_seen_at=now)
        )
        db.session.commit()
    return True


def _end(key: str, reason: str, now) -> None:
    db.session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.id_hash == key)
        .values(ended_at=now, ended_reason=reason)
    )
    db.session.commit()


def end_session(session_id: object, reason: str = "signed_out") -> None:
    """End one session (added to the transaction; the caller commits)."""
    if isinstance(session_id, str) and session_id:
        db.session.execute(
            update(ConsoleSession)
            .where(ConsoleSession.id_hash == digest(session_id), ConsoleSession.ended_at.is_(None))
            .values(ended_at=utcnow(), ended_reason=reason)
        )


def end_user_sessions(
    user_id: int,
    reason: str,
    *,
    keep: object = None,
    revoke_devices: bool = False,
    by_id: int | None = None,
) -> None:
    """End every console session of a user (but `keep`, the caller's own), and with
    `revoke_devices` every device token too: the phones keep their queues and ask for a sign-in.
    Added to the transaction; the caller commits."""
    now = utcnow()
    query = update(ConsoleSession).where(
        ConsoleSession.user_id == user_id, ConsoleSession.ended_at.is_(None)
    )
    if isinstance(keep, str) and keep:
        query = query.where(ConsoleSession.id_hash != digest(keep))
    db.session.execute(query.values(ended_at=now, ended_reason=reason))
    if revoke_devices:
        db.session.execute(
            update(Device)
            .where(Device.user_id == user_id, Device.revoked_at.is_(None))
            .values(revoked_at=now, revoked_by_id=by_id)
        )
