"""The one-time code that carries a sign-in at the provider back to the officers' app.

The provider sends the phone's browser to /oidc/callback; the app is a static page that cannot
read that answer, so the callback sends it to /#/sso/<code> instead. The app exchanges the code
(POST /api/v1/auth/device/sso) for the same per-device token a password sign-in gives: from then
on offline work, the outbox and the 401 "sign in again" flow are unchanged. The code is random,
stored hashed, used once, and lives HANDOFF_SECONDS.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select, update

from server.clock import utcnow
from server.db import db
from server.db.models import SignInHandoff, User

HANDOFF_SECONDS = 120


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def issue(user: User) -> str:
    """A new code for the user (added to the transaction; the caller commits)."""
    code = secrets.token_urlsafe(32)
    db.session.execute(
        delete(SignInHandoff).where(SignInHandoff.created_at < utcnow() - timedelta(days=1))
    )
    db.session.add(SignInHandoff(code_hash=_digest(code), user_id=user.id))
    return code


def redeem(code: str) -> User | None:
    """The user the code was issued to, once, within HANDOFF_SECONDS; None otherwise."""
    now = utcnow()
    key = _digest(code)
    spent = db.session.execute(
        update(SignInHandoff)
        .where(
            SignInHandoff.code_hash == key,
            SignInHandoff.used_at.is_(None),
            SignInHandoff.created_at > now - timedelta(seconds=HANDOFF_SECONDS),
        )
        .values(used_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        return None
    user_id = db.session.scalar(select(SignInHandoff.user_id).where(SignInHandoff.code_hash == key))
    return db.session.get(User, user_id)
