"""CSRF protection for every console form (the assessment pages under /console too).

A per-session random token goes in each form as a hidden `csrf_token` field; any unsafe request
to /console/ without the matching token is refused with 400. The JSON API is not covered: it
authenticates with bearer tokens, which a browser never sends on its own.
"""

from __future__ import annotations

import secrets

from flask import Flask, current_app, request, session

from server.web.error_pages import PageBadRequest

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FIELD = "csrf_token"


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    if request.method in SAFE_METHODS or not request.path.startswith("/console"):
        return
    # Same switch as Flask-WTF, so test suites that turn CSRF off for forms keep working.
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    expected = session.get("csrf")
    sent = request.form.get(FIELD) or request.headers.get("X-CSRF-Token") or ""
    if not expected or not secrets.compare_digest(str(expected), sent):
        raise PageBadRequest(
            "The form had expired or did not come from this site. Go back, reload and try again."
        )


def init_csrf(app: Flask) -> None:
    app.before_request(check_csrf)
    app.jinja_env.globals["csrf_token"] = csrf_token
