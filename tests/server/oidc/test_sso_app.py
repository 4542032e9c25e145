"""Single sign-on into the officers' app: the callback's one-time code for a device token."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from server.clock import utcnow
from server.db import db
from server.db.models import AccessLog, Device, SignInHandoff, User


def _code(answer) -> str:
    assert answer.status_code == 302, answer.get_data(as_text=True)
    location = answer.headers["Location"]
    assert location.startswith("/#/sso/")
    return location.removeprefix("/#/sso/")


def _exchange(client, code, name="PC Oidc's phone"):
    return client.post("/api/v1/auth/device/sso", json={"code": code, "device_name": name})


def test_the_app_learns_how_to_sign_in(sso_client):
    assert sso_client.get("/api/v1/auth/methods").get_json() == {
        "password": True,
        "sso": {"name": "Test Constabulary", "start": "/oidc/start?to=app"},
    }


def test_without_single_sign_on_nothing_of_it_shows(client):
    assert client.get("/api/v1/auth/methods").get_json() == {"password": True, "sso": None}
    off = _exchange(client, "anything")
    assert off.status_code == 404 and off.get_json()["error"]["code"] == "not_found"
    assert client.get("/oidc/start").status_code == 404
    assert client.post("/oidc/backchannel-logout").status_code == 404
    assert "Sign in with" not in client.get("/console/sign-in").get_data(as_text=True)


def test_an_officer_gets_a_device_token_once(sso_app, sso_client, sign_in_through):
    code = _code(sign_in_through(sso_client, "pc.oidc", to="app"))
    answer = _exchange(sso_client, code)
    assert answer.status_code == 201
    body = answer.get_json()
    assert body["user"]["role"] == "officer" and body["team"]["code"] == "NPT-A"
    pulled = sso_client.get(
        "/api/v1/sync/pull", headers={"Authorization": f"Bearer {body['token']}"}
    )
    assert pulled.status_code == 200
    again = _exchange(sso_client, code)
    assert again.status_code == 401 and again.get_json()["error"]["code"] == "unauthenticated"
    with sso_app.app_context():
        actions = db.session.scalars(select(AccessLog.action).order_by(AccessLog.id)).all()
        assert actions[:3] == ["create_user", "sso_sign_in", "device_sign_in"]
        assert actions.count("sign_in_failed") == 1
        device = db.session.get(Device, body["device_id"])
        assert device.name == "PC Oidc's phone"


def test_a_code_expires(sso_app, sso_client, sign_in_through):
    code = _code(sign_in_through(sso_client, "pc.oidc", to="app"))
    with sso_app.app_context():
        db.session.execute(update(SignInHandoff).values(created_at=utcnow() - timedelta(minutes=3)))
        db.session.commit()
    assert _exchange(sso_client, code).status_code == 401


def test_bad_exchanges_are_precise_errors(sso_client):
    assert _exchange(sso_client, "not-a-code").status_code == 401
    wrong = sso_client.post("/api/v1/auth/device/sso", json={"code": "x"})
    assert wrong.status_code == 400 and wrong.get_json()["error"]["code"] == "validation_failed"
    text = sso_client.post("/api/v1/auth/device/sso", data="code", content_type="text/plain")
    assert text.status_code == 415


def test_a_supervisor_may_use_the_app_too(sso_app, sso_client, sign_in_through):
    code = _code(sign_in_through(sso_client, "sgt.oidc", to="app"))
    assert _exchange(sso_client, code).get_json()["user"]["role"] == "supervisor"
    with sso_app.app_context():
        assert db.session.scalar(select(User.role).where(User.username == "sgt.oidc")) == (
            "supervisor"
        )
