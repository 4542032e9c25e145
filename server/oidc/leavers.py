"""Leavers: when the provider no longer vouches for an account, Beatbook shuts it at once.

Three ways the provider says so:
- the next sign-in there is refused (the provider's own page; Beatbook never sees a token);
- a back-channel logout (Keycloak, ADFS, oidc-provider): the user's console sessions end and
  the account is checked there and then;
- the periodic check: while a user holds device tokens, at most every OIDC_CHECK_MINUTES a sync
  (or `beatbook oidc check`, from cron) redeems the refresh token kept from their sign-in. A
  refusal (`invalid_grant`: account disabled or deleted, grant revoked) deactivates the user,
  ending every console session and revoking every device token (passwords.set_active): the
  phones keep their queues and show "sign in again". A provider that cannot be reached is not
  a refusal: the check is tried again next time.

A deactivation the provider caused is marked (oidc_left), so a person who signs in at the
provider again (re-enabled, or their refresh token had merely run out) is let back in; one made
by hand in Beatbook is not undone by any sign-in.
"""

from __future__ import annotations

from datetime import timedelta

import requests
from authlib.integrations.base_client import OAuthError
from flask import current_app
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import or_, select, update

from server.accounts.passwords import set_active
from server.accounts.sessions import end_user_sessions
from server.clock import utcnow
from server.db import db
from server.db.access_log import add_entry
from server.db.models import Device, User
from server.oidc.client import ProviderError, seal, settings, unseal

LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


def _claim_check(user: User, *, force: bool) -> bool:
    """Mark the check as started, if it is due, in one UPDATE: of two syncs arriving together
    only one asks the provider (a rotated refresh token used twice would look like a refusal)."""
    now = utcnow()
    query = update(User).where(User.id == user.id)
    if not force:
        due = now - timedelta(minutes=current_app.config["OIDC_CHECK_MINUTES"])
        query = query.where(or_(User.oidc_checked_at.is_(None), User.oidc_checked_at < due))
    claimed = db.session.execute(query.values(oidc_checked_at=now)).rowcount == 1  # type: ignore[attr-defined]
    db.session.commit()
    return claimed


def check_account(user: User, *, force: bool = False) -> bool:
    """Ask the provider whether the account still exists; False when it said no (the user is
    then deactivated). True when it said yes, when nothing was due, or when it did not answer."""
    found = settings()
    if found is None or not user.oidc_subject or not user.active:
        return user.active
    due = utcnow() - timedelta(minutes=current_app.config["OIDC_CHECK_MINUTES"])
    if not force and user.oidc_checked_at is not None and user.oidc_checked_at >= due:
        return True  # checked lately: no write on every sync
    if not _claim_check(user, force=force):
        return True
    token = unseal(user.oidc_refresh)
    if token is None:
        return True  # nothing to ask with: the next sign-in or a back-channel logout will tell
    try:
        # scope="": none sent, so the grant keeps what the sign-in was given (RFC 6749 section
        # 6); Authlib would otherwise ask for every configured scope, which a provider that
        # dropped one (offline_access without a consent prompt) refuses as invalid_scope.
        answer = found.client.fetch_access_token(
            grant_type="refresh_token", refresh_token=token, scope=""
        )
    except OAuthError as exc:
        if exc.error != "invalid_grant":
            current_app.logger.warning("oidc check of user %s: %s", user.id, exc.error)
            return True
        provider_says_gone(user, "refresh_refused")
        return False
    except (requests.RequestException, ProviderError, ValueError) as exc:
        current_app.logger.warning("oidc check of user %s: provider unreachable: %s", user.id, exc)
        return True
    if answer.get("refresh_token"):  # rotated: the old one is spent
        user.oidc_refresh = seal(answer["refresh_token"])
        db.session.commit()
    return True


def provider_says_gone(user: User, reason: str) -> None:
    """Deactivate now: every console session ends and every device token is revoked."""
    user.oidc_left = True
    user.oidc_refresh = None
    set_active(None, user, False, reason=f"oidc_{reason}")


def check_all() -> tuple[int, int]:
    """`beatbook oidc check`: every single sign-on user who holds a live device token, whatever
    the interval. Returns (checked, deactivated)."""
    now = utcnow()
    users = db.session.scalars(
        select(User)
        .where(User.oidc_subject.is_not(None), User.active.is_(True))
        .where(
            select(Device.id)
            .where(
                Device.user_id == User.id,
                Device.revoked_at.is_(None),
                or_(Device.expires_at.is_(None), Device.expires_at > now),
            )
            .exists()
        )
    ).all()
    gone = sum(0 if check_account(user, force=True) else 1 for user in users)
    return len(users), gone


class LogoutTokenError(ValueError):
    pass


def back_channel_logout(logout_token: str) -> User | None:
    """Verify a logout token (OpenID Connect Back-Channel Logout 1.0, section 2.6) with the
    library, end the user's console sessions and check the account at once."""
    found = settings()
    assert found is not None
    metadata = found.metadata()
    algorithms = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    try:
        keys = KeySet.import_key_set(found.client.fetch_jwk_set())
        try:
            token = jwt.decode(logout_token, keys, algorithms=algorithms)
        except JoseError:
            keys = KeySet.import_key_set(found.client.fetch_jwk_set(force=True))  # rotated keys
            token = jwt.decode(logout_token, keys, algorithms=algorithms)
        jwt.JWTClaimsRegistry(
            leeway=120,
            iss={"essential": True, "value": found.issuer},
            aud={"essential": True, "value": found.client_id},
            iat={"essential": True},
            jti={"essential": True},
            events={"essential": True},
        ).validate(token.claims)
    except (JoseError, ValueError) as exc:
        raise LogoutTokenError(f"the logout token was refused: {exc}") from exc
    claims = token.claims
    if not isinstance(claims["events"], dict) or LOGOUT_EVENT not in claims["events"]:
        raise LogoutTokenError("the logout token carries no back-channel logout event")
    if "nonce" in claims or not isinstance(claims.get("sub"), str):
        raise LogoutTokenError("the logout token has a nonce or no subject")
    user = db.session.scalar(
        select(User).where(User.oidc_issuer == found.issuer, User.oidc_subject == claims["sub"])
    )
    if user is None:
        return None
    end_user_sessions(user.id, "provider_logout")
    add_entry(
        "provider_logout",
        user_id=None,
        target_type="user",
        target_id=user.id,
        detail={"username": user.username, "jti": str(claims["jti"])[:80]},
    )
    db.session.commit()
    check_account(user, force=True)
    return user
