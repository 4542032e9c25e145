"""/oidc: the way in through the force's provider, for the console and the officers' app.

GET /oidc/start?to=console|app[&next=/console/...]  -> the provider's sign-in page (PKCE, nonce)
GET /oidc/callback   -> Authlib exchanges the code and checks the ID token; then a console
                        session, or a one-time code for the app (/#/sso/<code>)
POST /oidc/backchannel-logout   -> the provider says a user signed out or was removed

Every sign-in and every refusal is written to the access log. A refusal is a page that says
why in plain words and whom to ask (the mapping's "ask").
"""

from __future__ import annotations

import requests
from authlib.integrations.base_client import OAuthError
from flask import Blueprint, jsonify, redirect, render_template, request, session, url_for
from joserfc.errors import JoseError

from server.db import db
from server.db.access_log import add_entry
from server.db.models import User
from server.oidc import handoff
from server.oidc.client import ProviderError, settings
from server.oidc.identity import Refusal, user_for
from server.oidc.leavers import LogoutTokenError, back_channel_logout
from server.web.audit import log_access
from server.web.error_pages import PageNotFound
from server.web.session import CONSOLE_ROLES, safe_next, sign_in

bp = Blueprint("oidc", __name__, url_prefix="/oidc")
_TO, _NEXT = "oidc_to", "oidc_next"
TOKEN_ERRORS = (JoseError,)  # joserfc's: what Authlib's ID token checks raise


def _settings():
    found = settings()
    if found is None:
        raise PageNotFound()
    return found


@bp.get("/start")
def start():
    """Send the browser to the provider; `to` says where the sign-in is for."""
    found = _settings()
    to = "app" if request.args.get("to") == "app" else "console"
    session[_TO] = to
    session[_NEXT] = request.args.get("next", "")[:500]
    try:
        found.metadata()
        return found.client.authorize_redirect(url_for("oidc.callback", _external=True))
    except (requests.RequestException, ProviderError, ValueError) as exc:
        _log_refusal(to, "provider_unreachable", str(exc)[:200])
        return _refused(
            "provider_unreachable",
            f"{found.name} cannot be reached",
            "Beatbook could not reach the sign-in service. Try again in a few minutes; if it "
            f"goes on, tell {found.mapping.ask}.",
            to,
            503,
        )


@bp.get("/callback")
def callback():
    """The provider's answer: exchanged and checked by Authlib, then matched to a user."""
    found = _settings()
    to, next_path = session.pop(_TO, "console"), session.pop(_NEXT, "")
    try:
        token = found.client.authorize_access_token(claims_options=_id_token_checks(found))
        claims = token.get("userinfo")
        if not claims:
            raise ProviderError("the provider sent no ID token")
        user = user_for(dict(claims), token.get("refresh_token"))
    except OAuthError as exc:
        # The provider said no (access_denied, a disabled account...) or the answer does not
        # belong to this browser's sign-in (mismatching_state): either way, start again.
        _log_refusal(to, f"provider:{exc.error}"[:40], str(exc.description or "")[:200])
        return _refused(
            "provider_refused",
            "The sign-in did not complete",
            f"{found.name} did not sign you in ({exc.error}). Try again; if it goes on, ask "
            f"{found.mapping.ask}.",
            to,
            401,
        )
    except TOKEN_ERRORS as exc:
        _log_refusal(to, "bad_id_token", f"{type(exc).__name__}: {exc}"[:200])
        return _refused(
            "bad_id_token",
            "The sign-in could not be trusted",
            "The answer from the sign-in service did not check out (its signature, audience "
            f"or age), so Beatbook refused it. Try again; if it goes on, tell {found.mapping.ask}.",
            to,
            401,
        )
    except (requests.RequestException, ProviderError, ValueError) as exc:
        _log_refusal(to, "provider_unreachable", str(exc)[:200])
        return _refused(
            "provider_unreachable",
            f"{found.name} cannot be reached",
            f"Beatbook could not finish the sign-in. Try again; if it goes on, tell "
            f"{found.mapping.ask}.",
            to,
            503,
        )
    except Refusal as refusal:
        db.session.rollback()
        _log_refusal(to, refusal.reason, "", refusal.user)
        return _refused(refusal.reason, refusal.heading, refusal.message, to, 403)
    return _signed_in(user, to, next_path)


def _id_token_checks(found) -> dict:
    """What Authlib holds the ID token to besides its signature, expiry, nonce and azp: the
    issuer and the audience (Authlib's default checks the audience only through azp)."""
    return {
        "iss": {"essential": True, "value": found.issuer},
        "aud": {"essential": True, "value": found.client_id},
    }


def _signed_in(user: User, to: str, next_path: str):
    found = _settings()
    ask = found.mapping.ask
    if to == "app":
        if user.role == "panel":
            return _deny(user, to, "role", "Panel members use the console, not the officers' app.")
        code = handoff.issue(user)
        add_entry(
            "sso_sign_in",
            user_id=user.id,
            target_type="user",
            target_id=user.id,
            detail={"via": "app"},
        )
        db.session.commit()
        return redirect(f"/#/sso/{code}")
    if user.role not in CONSOLE_ROLES:
        db.session.commit()  # a new officer's account stands: the app is theirs to use
        return _deny(
            user,
            to,
            "role",
            f"Officers use the Beatbook app, not the console. Ask {ask} if you need the console.",
        )
    sign_in(user)
    log_access("sign_in", "user", user.id, {"via": "oidc"}, user=user)
    db.session.commit()
    if next_path:
        return redirect(safe_next(next_path))
    return redirect("/console/assessment" if user.role == "panel" else "/console/records")


def _deny(user: User, to: str, reason: str, message: str):
    _log_refusal(to, reason, "", user)
    db.session.commit()
    return _refused(reason, "Not for your role", message, to, 403)


def _log_refusal(to: str, reason: str, detail: str, user: User | None = None) -> None:
    add_entry(
        "sign_in_failed",
        user_id=user.id if user else None,
        target_type="user",
        target_id=user.username if user else "",
        detail={"via": f"oidc-{to}", "reason": reason, **({"error": detail} if detail else {})},
    )
    db.session.commit()


def _refused(reason: str, heading: str, message: str, to: str, status: int):
    page = render_template(
        "oidc/refused.html",
        heading=heading,
        message=message,
        reason=reason,
        back="/" if to == "app" else url_for("console_signin.sign_in_page"),
        back_label="Back to the Beatbook app" if to == "app" else "Back to the sign-in page",
    )
    return page, status


@bp.post("/backchannel-logout")
def backchannel_logout():
    """OpenID Connect Back-Channel Logout: 200 when the token checked out, 400 otherwise."""
    _settings()
    token = request.form.get("logout_token", "")
    if not token or len(token) > 16384:
        return _logout_error("logout_token is missing")
    try:
        back_channel_logout(token)
    except LogoutTokenError as exc:
        add_entry("provider_logout_refused", user_id=None, detail={"error": str(exc)[:200]})
        db.session.commit()
        return _logout_error(str(exc))
    except (requests.RequestException, ProviderError) as exc:
        return _logout_error(f"the provider's keys could not be fetched: {exc}"[:200], 503)
    response = jsonify({})
    response.headers["Cache-Control"] = "no-store"
    return response


def _logout_error(message: str, status: int = 400):
    response = jsonify({"error": "invalid_request", "error_description": message})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
