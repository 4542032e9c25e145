"""Passwords (Argon2id), per-device bearer tokens (stored hashed) and sign-in rate limits."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import wraps

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, g, request
from sqlalchemy import delete, func, select

from server.clock import utcnow
from server.db import db
from server.db.models import AuthFailure, Device, User
from server.errors import ApiError, Code

_hasher = PasswordHasher()
# Verifying against a dummy hash when the user is unknown keeps timing the same for both cases.
_DUMMY_HASH = _hasher.hash("beatbook-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User | None, password: str) -> bool:
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return user is not None and user.active


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def client_address() -> str:
    return (request.remote_addr or "")[:64]


def check_rate_limit(username: str) -> None:
    """Refuse a sign-in once an account or an address has failed too often recently.

    Only failures count, so a team signing in on several phones at shift start is never locked out.
    """
    window = current_app.config["SIGNIN_WINDOW_SECONDS"]
    since = utcnow() - timedelta(seconds=window)
    limits = (
        (f"user:{username.lower()}", current_app.config["SIGNIN_FAILURES_PER_ACCOUNT"]),
        (f"ip:{client_address()}", current_app.config["SIGNIN_FAILURES_PER_ADDRESS"]),
    )
    for key, limit in limits:
        count = db.session.scalar(
            select(func.count()).where(AuthFailure.key == key, AuthFailure.at > since)
        )
        if count >= limit:
            raise ApiError(
                Code.RATE_LIMITED,
                f"Too many failed sign-ins. Try again in {window // 60} minutes.",
                headers={"Retry-After": str(window)},
            )


def record_failure(username: str) -> None:
    db.session.add_all(
        [AuthFailure(key=f"user:{username.lower()}"), AuthFailure(key=f"ip:{client_address()}")]
    )
    # Old failures only slow the count down; prune the ones outside any window.
    db.session.execute(delete(AuthFailure).where(AuthFailure.at < utcnow() - timedelta(days=1)))
    db.session.commit()


def issue_device(user: User, name: str) -> tuple[Device, str]:
    token = secrets.token_urlsafe(32)
    days = current_app.config["DEVICE_TOKEN_DAYS"]
    device = Device(
        id=secrets.token_hex(16),
        user_id=user.id,
        name=name,
        token_hash=token_digest(token),
        expires_at=utcnow() + timedelta(days=days),
        user_agent=(request.headers.get("User-Agent") or "")[:300],
        last_address=client_address(),
        last_seen_at=utcnow(),
    )
    db.session.add(device)
    return device, token


def authenticate_device() -> tuple[User, Device]:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(Code.UNAUTHENTICATED, "Sign in: send Authorization: Bearer <device token>.")
    device = db.session.scalar(select(Device).where(Device.token_hash == token_digest(token.strip())))
    if device is None:
        raise ApiError(Code.UNAUTHENTICATED, "This device token is not known. Sign in again.")
    if device.revoked_at is not None:
        # The phone shows this as the reason its sync stopped: say who stopped it.
        who = "A supervisor signed this phone out" if device.revoked_by_id else (
            "This device was signed out")
        raise ApiError(Code.TOKEN_REVOKED, f"{who}. Sign in again.")
    if device.expires_at is not None and device.expires_at < utcnow():
        raise ApiError(Code.TOKEN_REVOKED, "This device's sign-in has expired. Sign in again.")
    user = device.user
    if not user.active:
        raise ApiError(Code.TOKEN_REVOKED, "This account is deactivated. Ask your supervisor.")
    return user, device


def device_required(*roles: str):
    """Require a valid device token; with roles, require one of them."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            g.user, g.device = authenticate_device()
            if roles and g.user.role not in roles:
                raise ApiError(Code.FORBIDDEN, f"Your role ({g.user.role}) may not do this.")
            return view(*args, **kwargs)

        return wrapper

    return decorator
