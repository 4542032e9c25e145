"""Device sign-in and sign-out."""

from __future__ import annotations

import base64
import hashlib
import hmac

from flask import Blueprint, current_app, g
from sqlalchemy import func, select

from schema.wire import DeviceHandoffSchema, DeviceRenameSchema, DeviceSignInSchema, QueueKeySchema
from server.accounts.auth import (
    check_password,
    check_rate_limit,
    device_required,
    issue_device,
    record_failure,
)
from server.accounts.passwords import refuse_until_password_changed
from server.api.body import json_body, load
from server.clock import utcnow
from server.db import db
from server.db.access_log import add_entry
from server.db.models import User
from server.errors import ApiError, Code
from server.oidc import handoff
from server.oidc.client import (
    local_signin_allowed,
    provider_name,
    settings,
    signs_in_at_provider,
)

bp = Blueprint("api_auth", __name__, url_prefix="/api/v1/auth")


def user_json(user: User) -> dict:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name or user.username,
        "role": user.role,
    }


@bp.post("/device")
def sign_in_device():
    """Sign a device in and return its bearer token."""
    body = load(DeviceSignInSchema(), json_body())
    username = body["username"].strip()
    user = db.session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    try:
        check_rate_limit(username)
    except ApiError:
        record_failure(username, user.id if user else None, via="app", reason="rate_limited")
        raise
    if not local_signin_allowed(username, user):
        record_failure(username, user.id if user else None, via="app", reason="local_signin_off")
        raise ApiError(Code.FORBIDDEN, _single_sign_on_only())
    if not check_password(user, body["password"]):
        record_failure(username, user.id if user else None, via="app")
        raise ApiError(Code.BAD_CREDENTIALS, "Wrong username or password.")
    if signs_in_at_provider(username, user):
        record_failure(username, user.id, via="app", reason="linked_to_provider")
        raise ApiError(Code.FORBIDDEN, f"This account signs in with {provider_name()}.")
    if user.role == "panel":
        raise ApiError(Code.FORBIDDEN, "Panel members use the console, not the officers' app.")
    refuse_until_password_changed(user)
    return _new_device(user, body["device_name"].strip(), via="password")


def _single_sign_on_only() -> str:
    return f"Beatbook passwords are switched off here: sign in with {provider_name()}."


def _new_device(user: User, name: str, *, via: str):
    device, token = issue_device(user, name)
    add_entry(
        "device_sign_in",
        user_id=user.id,
        target_type="device",
        target_id=device.id,
        device_id=device.id,
        detail={"name": device.name, **({"via": via} if via != "password" else {})},
    )
    db.session.commit()
    team = {"code": user.team.code, "name": user.team.name} if user.team else None
    return {"token": token, "device_id": device.id, "user": user_json(user), "team": team}, 201


@bp.get("/methods")
def sign_in_methods():
    """How this server signs people in, for the app's sign-in screen: Beatbook passwords,
    single sign-on through the force's provider, or both."""
    found = settings()
    sso = {"name": found.name, "start": "/oidc/start?to=app"} if found else None
    return {"password": bool(current_app.config["LOCAL_SIGNIN"]), "sso": sso}


@bp.post("/device/sso")
def sign_in_device_sso():
    """Exchange the one-time code /oidc/callback gave the app for a device token."""
    body = load(DeviceHandoffSchema(), json_body())
    if settings() is None:
        raise ApiError(Code.NOT_FOUND, "Single sign-on is not set up on this server.")
    user = handoff.redeem(body["code"])
    if user is None or not user.active:
        db.session.rollback()
        add_entry(
            "sign_in_failed",
            user_id=user.id if user else None,
            target_type="user",
            target_id=user.username if user else "",
            detail={"via": "oidc-app", "reason": "bad_handoff"},
        )
        db.session.commit()
        raise ApiError(
            Code.UNAUTHENTICATED, "That sign-in has expired or was used already. Sign in again."
        )
    return _new_device(user, body["device_name"].strip(), via="oidc")


@bp.patch("/device")
@device_required()
def rename_device():
    """Rename the calling device: the app names it after its officer once it knows who they are."""
    body = load(DeviceRenameSchema(), json_body())
    name = body["device_name"].strip()
    if not name:
        raise ApiError(
            Code.VALIDATION_FAILED,
            "The device name is empty.",
            fields={"device_name": ["Give the device a name."]},
        )
    g.device.name = name
    db.session.commit()
    return {"device_id": g.device.id, "device_name": g.device.name}


@bp.delete("/device")
@device_required()
def sign_out_device():
    """Revoke the calling device's token."""
    g.device.revoked_at = utcnow()
    add_entry(
        "device_sign_out",
        user_id=g.user.id,
        target_type="device",
        target_id=g.device.id,
        device_id=g.device.id,
        detail={"pending": g.device.pending},
    )
    db.session.commit()
    return "", 204


def queue_key(secret: str, user_id: int, install_id: str) -> str:
    """The key that opens one officer's encrypted queue on one phone: derived from the server's
    secret, so nothing is stored, and the same at every sign-in of that officer on that phone."""
    message = f"beatbook-queue-key\0{user_id}\0{install_id}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@bp.post("/device/queue-key")
@device_required()
def device_queue_key():
    """The phone's key for its encrypted queue, for a signed-in device only (a lost phone's
    storage holds its queue wrapped by this key and by the officer's PIN, never the key)."""
    body = load(QueueKeySchema(), json_body())
    add_entry(
        "device_queue_key",
        user_id=g.user.id,
        target_type="device",
        target_id=g.device.id,
        device_id=g.device.id,
        detail={"install_id": body["install_id"]},
    )
    db.session.commit()
    return {"key": queue_key(current_app.config["SECRET_KEY"], g.user.id, body["install_id"])}
