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
from server.db.access_log import add_entry
from server.db.models import AuthFailure, Device, User
from server.errors import ApiError, Code
from server.records import text

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


def _failure_keys(username: str) -> tuple[str, str, str]:
    name, address = username.lower()[:80], client_address()
    return f"user:{name}", f"ip:{address}", f"pair:{name}|{address}"


def _refuse(retry_after: int, message: str) -> None:
    raise ApiError(Code.RATE_LIMITED, message, headers={"Retry-After": str(max(1, retry_after))})


def check_rate_limit(username: str) -> None:
    """Refuse a sign-in attempt that comes too soon after failures (issue 11 item 6).

    - Per (account, address): the first SIGNIN_FREE_TRIES failures cost nothing; after that
      each attempt waits 1, 2, 4 ... seconds (up to the window) after the last failure. Someone
      guessing one account from one address gets about a dozen tries in 15 minutes, while the
      officer, signing in from their own phone, is not slowed by it.
    - Per account: a ceiling (SIGNIN_FAILURES_PER_ACCOUNT, 100 in 15 minutes) that one address
      cannot reach at that pace, against guessing from many addresses.
    - Per address: a ceiling (SIGNIN_FAILURES_PER_ADDRESS) against trying many accounts.
    Only failures count, so a team signing in on several phones at shift start is never held up.
    """
    config = current_app.config
    window = config["SIGNIN_WINDOW_SECONDS"]
    now = utcnow()
    since = now - timedelta(seconds=window)
    user_key, ip_key, pair_key = _failure_keys(username)
    for key, limit in (
        (user_key, config["SIGNIN_FAILURES_PER_ACCOUNT"]),
        (ip_key, config["SIGNIN_FAILURES_PER_ADDRESS"]),
    ):
        count = db.session.scalar(
            select(func.count()).where(AuthFailure.key == key, AuthFailure.at > since)
        )
        if count >= limit:
            _refuse(window, f"Too many failed sign-ins. Try again in {window // 60} minutes.")
    count, last = db.session.execute(
        select(func.count(), func.max(AuthFailure.at)).where(
            AuthFailure.key == pair_key, AuthFailure.at > since
        )
    ).one()
    free = config["SIGNIN_FREE_TRIES"]
    if count >= free and last is not None:
        delay = min(2 ** min(count - free, 30), window)
        wait = (last + timedelta(seconds=delay) - now).total_seconds()
        if wait > 0:
            seconds = int(wait) + 1
            _refuse(seconds, f"Too many failed sign-ins. Wait {seconds} seconds and try again.")


def record_failure(
    username: str, user_id: int | None = None, *, via: str, reason: str = "bad_credentials"
) -> None:
    """Count a failed sign-in and keep it in the access log (supervisors see repeated ones)."""
    if reason == "bad_credentials":
        db.session.add_all([AuthFailure(key=key) for key in _failure_keys(username)])
        # Old failures only slow the count down; prune the ones outside any window (the access
        # log keeps every failure).
        db.session.execute(delete(AuthFailure).where(AuthFailure.at < utcnow() - timedelta(days=1)))
    add_entry(
        "sign_in_failed",
        user_id=user_id,
        target_type="user",
        target_id=username.lower(),
        detail={"via": via, "reason": reason},
    )
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
        user_agent=text.clean(request.headers.get("User-Agent") or "")[:300],
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
    device = db.session.scalar(
        select(Device).where(Device.token_hash == token_digest(token.strip()))
    )
    if device is None:
        raise ApiError(Code.UNAUTHENTICATED, "This device token is not known. Sign in again.")
    if device.revoked_at is not None:
        # The phone shows this as the reason its sync stopped: say who stopped it.
        who = (
            "A supervisor signed this phone out"
            if device.revoked_by_id
            else ("This device was signed out")
        )
        raise ApiError(Code.TOKEN_REVOKED, f"{who}. Sign in again.")
    if device.expires_at is not None and device.expires_at < utcnow():
        raise ApiError(Code.TOKEN_REVOKED, "This device's sign-in has expired. Sign in again.")
    user = device.user
    if not user.active:
        raise ApiError(Code.TOKEN_REVOKED, "This account is deactivated. Ask your supervisor.")
    if user.oidc_subject is not None:
        from server.oidc.leavers import check_account  # single sign-on users only

        if not check_account(user):
            raise ApiError(
                Code.TOKEN_REVOKED,
                "The force's sign-in service no longer vouches for this account. Sign in again.",
            )
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
