"""Leavers: the provider no longer vouches for an account -> deactivated, sessions ended,
device tokens revoked at once; the phone is told to sign in again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from server.clock import utcnow
from server.db import db
from server.db.models import AccessLog, ConsoleSession, Device, User

PC_SUB = "a1f0c3e2-0002-4000-8000-000000000002"


def _phone(client, sign_in_through, login="pc.oidc"):
    answer = sign_in_through(client, login, to="app")
    code = answer.headers["Location"].removeprefix("/#/sso/")
    body = client.post(
        "/api/v1/auth/device/sso", json={"code": code, "device_name": "Phone"}
    ).get_json()
    return {"Authorization": f"Bearer {body['token']}"}


def _an_hour_passes(app):
    with app.app_context():
        db.session.execute(update(User).values(oidc_checked_at=utcnow() - timedelta(hours=2)))
        db.session.commit()


def _user(app, login="pc.oidc"):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == login))
        db.session.expunge(user)
        return user


def test_a_disabled_account_is_shut_at_the_next_sync_after_the_interval(
    sso_app, sso_client, sign_in_through, provider
):
    phone = _phone(sso_client, sign_in_through)
    second = _phone(sso_client, sign_in_through)
    provider.disable("pc.oidc")
    # Checked at sign-in, so not asked again within OIDC_CHECK_MINUTES: the sync goes through.
    assert sso_client.get("/api/v1/sync/pull", headers=phone).status_code == 200
    _an_hour_passes(sso_app)
    refused = sso_client.get("/api/v1/sync/pull", headers=phone)
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "token_revoked"
    assert "sign-in service no longer vouches" in refused.get_json()["error"]["message"]
    other = sso_client.get("/api/v1/sync/pull", headers=second).get_json()["error"]
    assert other["code"] == "token_revoked"  # every device of the account, at once
    user = _user(sso_app)
    assert not user.active and user.oidc_left and user.oidc_refresh is None
    with sso_app.app_context():
        devices = db.session.scalars(select(Device).where(Device.user_id == user.id)).all()
        assert len(devices) == 2 and all(d.revoked_at is not None for d in devices)
        [entry] = db.session.scalars(
            select(AccessLog).where(AccessLog.action == "deactivate_officer")
        ).all()
        assert entry.detail["reason"] == "oidc_refresh_refused" and entry.user_id is None


def test_a_leaver_brought_back_at_the_provider_signs_in_again(
    sso_app, sso_client, sign_in_through, provider
):
    phone = _phone(sso_client, sign_in_through)
    provider.disable("pc.oidc")
    _an_hour_passes(sso_app)
    assert sso_client.get("/api/v1/sync/pull", headers=phone).status_code == 401
    provider.enable("pc.oidc")
    again = _phone(sso_client, sign_in_through)
    assert sso_client.get("/api/v1/sync/pull", headers=again).status_code == 200
    assert _user(sso_app).active
    assert sso_client.get("/api/v1/sync/pull", headers=phone).status_code == 401  # stays revoked


def test_a_leaver_then_deactivated_by_hand_stays_out(
    sso_app, sso_client, sign_in_through, provider
):
    """The provider shut the account; an admin then deactivates it by hand (say, misconduct):
    a sign-in at the provider, even once it vouches again, does not reopen it."""
    from server.accounts.passwords import set_active

    phone = _phone(sso_client, sign_in_through)
    provider.disable("pc.oidc")
    _an_hour_passes(sso_app)
    assert sso_client.get("/api/v1/sync/pull", headers=phone).status_code == 401
    with sso_app.app_context():
        admin = User(username="admin.hand", display_name="Admin", role="admin", password_hash="x")
        db.session.add(admin)
        db.session.flush()
        user = db.session.scalar(select(User).where(User.username == "pc.oidc"))
        assert set_active(admin, user, False)
        db.session.commit()
    provider.enable("pc.oidc")
    answer = sign_in_through(sso_client, "pc.oidc", to="app")
    assert "/#/sso/" not in answer.headers.get("Location", "")
    user = _user(sso_app)
    assert not user.active and not user.oidc_left


def test_the_provider_out_of_reach_is_not_a_refusal(sso_app, sso_client, sign_in_through):
    phone = _phone(sso_client, sign_in_through)
    _an_hour_passes(sso_app)
    sso_app.extensions["beatbook.oidc"].client.server_metadata["token_endpoint"] = (
        "http://127.0.0.1:9/token"  # nothing listens there
    )
    assert sso_client.get("/api/v1/sync/pull", headers=phone).status_code == 200
    assert _user(sso_app).active


def test_a_rotated_refresh_token_is_kept(sso_app, sso_client, sign_in_through):
    phone = _phone(sso_client, sign_in_through)
    before = _user(sso_app).oidc_refresh
    _an_hour_passes(sso_app)
    assert sso_client.get("/api/v1/sync/pull", headers=phone).status_code == 200
    after = _user(sso_app)
    assert (
        after.active
        and after.oidc_refresh
        and after.oidc_checked_at > utcnow() - timedelta(minutes=1)
    )
    assert before  # the provider may or may not rotate; a second check must still work
    _an_hour_passes(sso_app)
    assert sso_client.get("/api/v1/sync/pull", headers=phone).status_code == 200


def test_the_cron_check_finds_leavers_whose_phones_are_quiet(
    sso_app, sso_client, sign_in_through, provider
):
    _phone(sso_client, sign_in_through)
    sign_in_through(sso_client, "sgt.oidc")  # a console user without a phone: not asked
    provider.disable("pc.oidc")
    result = sso_app.test_cli_runner().invoke(args=["oidc", "check"])
    assert result.exit_code == 0, result.output
    assert "Checked 1 accounts with the provider; deactivated 1." in result.output
    assert not _user(sso_app).active and _user(sso_app, "sgt.oidc").active


def test_deactivating_by_hand_does_the_same(sso_app, sso_client, sign_in_through):
    from server.accounts.passwords import set_active

    phone = _phone(sso_client, sign_in_through)
    with sso_app.app_context():
        set_active(None, db.session.scalar(select(User).where(User.username == "pc.oidc")), False)
    assert sso_client.get("/api/v1/sync/pull", headers=phone).status_code == 401
    assert not _user(sso_app).oidc_left  # so no provider sign-in undoes it


def test_a_back_channel_logout_ends_sessions_and_shuts_a_disabled_account(
    live_sso, sign_in_through, provider
):
    client = live_sso.test_client()
    phone = _phone(client, sign_in_through)
    console = live_sso.test_client()
    sign_in_through(console, "sgt.oidc")
    provider.logout("sgt.oidc")  # signed out at the provider: sessions end, account stays
    assert console.get("/console/records").status_code == 302
    assert _user(live_sso, "sgt.oidc").active
    provider.disable("pc.oidc")
    provider.logout("pc.oidc")  # what Keycloak sends when IT disables someone
    assert not _user(live_sso).active
    assert client.get("/api/v1/sync/pull", headers=phone).status_code == 401
    with live_sso.app_context():
        ended = db.session.scalars(select(ConsoleSession.ended_reason)).all()
        assert ended == ["provider_logout"]
        logouts = db.session.scalars(
            select(AccessLog).where(AccessLog.action == "provider_logout")
        ).all()
        assert len(logouts) == 2


def test_a_forged_logout_token_is_refused(sso_app, sso_client):
    answer = sso_client.post("/oidc/backchannel-logout", data={"logout_token": "a.b.c"})
    assert answer.status_code == 400 and answer.get_json()["error"] == "invalid_request"
    assert sso_client.post("/oidc/backchannel-logout").status_code == 400
    with sso_app.app_context():
        assert db.session.scalar(
            select(AccessLog.action).where(AccessLog.action == "provider_logout_refused")
        )
