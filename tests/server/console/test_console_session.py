"""Signing in and out, CSRF, rate limits, session expiry and cookie flags."""

from __future__ import annotations

import time

import pytest
from console_helpers import Console
from helpers import PASSWORD

from server import create_app
from server.db import db
from server.db.models import User


def test_sign_in_form_has_labelled_fields_and_button(app):
    html = Console(app).text("/console/sign-in")
    assert '<label for="username">Username</label>' in html
    assert '<label for="password">Password</label>' in html
    assert '<button type="submit" class="primary">Sign in</button>' in html
    assert 'name="csrf_token"' in html


def test_signed_out_user_is_sent_to_sign_in_and_back_after(app, make_user):
    name = make_user("supervisor", "NPT-ONE")
    person = Console(app)
    response = person.get("/console/activity?days=3")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/console/sign-in?next=")
    response = person.sign_in(name, next="/console/activity?days=3")
    assert response.headers["Location"] == "/console/activity?days=3"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_sign_in_never_redirects_off_site(app, make_user, target):
    name = make_user("supervisor", "NPT-ONE")
    response = Console(app).sign_in(name, next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/console/records"


@pytest.mark.parametrize(
    "role, home",
    [
        ("supervisor", "/console/records"),
        ("admin", "/console/records"),
        ("panel", "/console/assessment"),
    ],
)
def test_each_console_role_lands_on_its_first_page(app, make_user, role, home):
    response = Console(app).sign_in(make_user(role, "NPT-ONE"))
    assert response.status_code == 302 and response.headers["Location"] == home


def test_wrong_password_is_refused_and_counted(app, make_user):
    name = make_user("supervisor", "NPT-ONE")
    response = Console(app).sign_in(name, "not-the-password")
    assert response.status_code == 401
    assert "Wrong username or password." in response.get_data(as_text=True)


def test_officer_cannot_sign_in_to_the_console(app, make_user):
    person = Console(app)
    response = person.sign_in(make_user("officer", "NPT-ONE"))
    assert response.status_code == 403
    assert "Officers use the Beatbook app" in response.get_data(as_text=True)
    assert person.get("/console/records").status_code == 302  # still signed out


def test_sign_in_is_rate_limited_per_account(app, make_user):
    app.config["SIGNIN_FAILURES_PER_ACCOUNT"] = 3
    name = make_user("supervisor", "NPT-ONE")
    person = Console(app)
    for _ in range(3):
        assert person.sign_in(name, "wrong-password").status_code == 401
    response = person.sign_in(name)  # even the right password waits now
    assert response.status_code == 429
    assert response.headers["Retry-After"] == str(app.config["SIGNIN_WINDOW_SECONDS"])
    assert "Too many failed sign-ins" in response.get_data(as_text=True)


def test_form_without_csrf_token_is_refused(app, make_user):
    name = make_user("supervisor", "NPT-ONE")
    person = Console(app)
    person.client.get("/console/sign-in")
    response = person.client.post("/console/sign-in", data={"username": name, "password": PASSWORD})
    assert response.status_code == 400
    response = person.client.post(
        "/console/sign-in", data={"username": name, "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 400
    assert person.get("/console/records").status_code == 302


def test_every_signed_in_post_needs_the_token(app, console):
    person = console("supervisor")
    response = person.client.post("/console/sign-out")
    assert response.status_code == 400
    assert person.get("/console/records").status_code == 200  # not signed out by a forged form


def test_sign_out_ends_the_session(app, console):
    person = console("supervisor")
    response = person.post("/console/sign-out")
    assert response.status_code == 302
    assert person.get("/console/records").status_code == 302


def test_session_expires_after_session_hours(app, console):
    person = console("supervisor")
    assert person.get("/console/records").status_code == 200
    hours = app.config["SESSION_HOURS"]
    with person.client.session_transaction() as session:
        session["console_started"] = int(time.time()) - hours * 3600 - 5
    assert person.get("/console/records").status_code == 302


def test_deactivated_user_is_signed_out_at_once(app, console):
    person = console("supervisor")
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == person.username))
        user.active = False
        db.session.commit()
    assert person.get("/console/records").status_code == 302


def test_session_cookie_is_httponly_lax_and_secure_in_production(tmp_path, make_user, app):
    person = Console(app)
    response = person.get("/console/sign-in")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    production = create_app(
        {"ENV": "production", "SECRET_KEY": "s" * 40, "DATABASE_URL": app.config["DATABASE_URL"]}
    )
    response = production.test_client().get("/console/sign-in", base_url="https://localhost")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with production.app_context():
        db.engine.dispose()


def test_sign_in_and_out_are_in_the_access_log(app, console):
    from console_helpers import access_log

    person = console("supervisor")
    person.post("/console/sign-out")
    actions = [row.action for row in access_log(app)]
    assert actions == ["sign_in", "sign_out"]


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.example",
        "/%09/evil.example",
        "/\n/evil.example",
        "/%0A/evil.example",
        "/%0D%0A/evil.example",
        "https:/evil.example",
        "/console/\x7f",
        "javascript:alert(1)",
        "/teams/../../evil",
        "evil.example/console/",
    ],
)
def test_sign_in_refuses_next_with_control_characters_or_a_host(app, make_user, target):
    from urllib.parse import unquote

    name = make_user("supervisor", "NPT-ONE")
    response = Console(app).sign_in(name, next=unquote(target))
    assert response.status_code == 302
    assert response.headers["Location"] == "/console/records"


def test_sign_in_refuses_an_encoded_tab_in_the_query_string(app, make_user):
    name = make_user("supervisor", "NPT-ONE")
    person = Console(app)
    person.sign_in(name)
    for raw in ("/%09/evil.example", "/%0A/evil.example"):
        response = person.get(f"/console/sign-in?next={raw}")
        assert response.status_code == 302
        assert response.headers["Location"] == "/console/records"


def test_sign_in_keeps_console_and_app_paths(app, make_user):
    name = make_user("supervisor", "NPT-ONE")
    assert Console(app).sign_in(name, next="/").headers["Location"] == "/"
    target = "/console/records?q=litter&team=NPT-ONE"
    assert Console(app).sign_in(name, next=target).headers["Location"] == target


def _cookie_copy(person: Console) -> Console:
    """Another browser holding a copy of this one's session cookie."""
    copy = Console(person.app)
    with person.client.session_transaction() as original:
        saved = dict(original)
    with copy.client.session_transaction() as session:
        session.update(saved)
    return copy


def test_a_cookie_copied_before_sign_out_opens_nothing_after(app, console):
    person = console("supervisor")
    copy = _cookie_copy(person)
    assert copy.get("/console/records").status_code == 200
    person.post("/console/sign-out")
    assert copy.get("/console/records").status_code == 302


def test_session_ends_after_idle_minutes(app, console):
    from datetime import timedelta

    from server.db.models import ConsoleSession

    person = console("supervisor")
    assert person.get("/console/records").status_code == 200
    with app.app_context():
        row = db.session.scalar(db.select(ConsoleSession))
        row.last_seen_at -= timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)
        db.session.commit()
    assert person.get("/console/records").status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(ConsoleSession.ended_reason)) == "idle"


def test_activity_keeps_a_session_alive(app, console):
    from datetime import timedelta

    from server.db.models import ConsoleSession

    person = console("supervisor")
    with app.app_context():
        row = db.session.scalar(db.select(ConsoleSession))
        row.last_seen_at -= timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] - 1)
        db.session.commit()
    assert person.get("/console/records").status_code == 200  # touched: a fresh idle window
    with app.app_context():
        row = db.session.scalar(db.select(ConsoleSession))
        row.last_seen_at -= timedelta(minutes=2)
        db.session.commit()
    assert person.get("/console/records").status_code == 200


def test_idle_minutes_come_from_the_environment(monkeypatch):
    from server.config import DEFAULTS, from_environment

    assert DEFAULTS["SESSION_IDLE_MINUTES"] == 30
    assert from_environment({"BEATBOOK_SESSION_IDLE_MINUTES": "5"}) == {"SESSION_IDLE_MINUTES": 5}


def test_a_session_cookie_without_a_server_session_opens_nothing(app, console):
    person = console("supervisor")
    with person.client.session_transaction() as session:
        session.pop("console_sid")
    assert person.get("/console/records").status_code == 302
