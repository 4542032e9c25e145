"""Single sign-on into the console through a real provider (tests/oidc/provider.mjs)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from server.accounts.people import add_user
from server.db import db
from server.db.models import AccessLog, User

SGT_SUB = "a1f0c3e2-0001-4000-8000-000000000001"


def _log(app, action):
    with app.app_context():
        return db.session.scalars(select(AccessLog).where(AccessLog.action == action)).all()


def test_the_sign_in_page_offers_the_force(sso_client):
    page = sso_client.get("/console/sign-in").get_data(as_text=True)
    assert "Sign in with Test Constabulary" in page
    assert 'name="password"' in page  # local passwords stay on unless switched off


def test_the_authorization_request_uses_pkce_and_a_nonce(sso_client, provider):
    started = sso_client.get("/oidc/start?to=console")
    query = parse_qs(urlsplit(started.headers["Location"]).query)
    assert started.headers["Location"].startswith(provider.issuer + "/auth?")
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["nonce"][0] and query["state"][0]
    assert query["response_type"] == ["code"]
    assert "openid" in query["scope"][0].split()


def test_a_supervisor_signs_in_and_is_made_from_the_mapping(sso_app, sso_client, sign_in_through):
    answer = sign_in_through(sso_client, "sgt.oidc")
    assert answer.status_code == 302 and answer.headers["Location"] == "/console/records"
    assert sso_client.get("/console/records").status_code == 200
    with sso_app.app_context():
        user = db.session.scalar(select(User).where(User.oidc_subject == SGT_SUB))
        assert (user.username, user.role, user.team.code) == ("sgt.oidc", "supervisor", "NPT-A")
        assert [t.code for t in user.supervised] == ["NPT-A"]
        assert user.display_name == "Sgt Oidc"
        assert user.oidc_refresh and "." not in user.oidc_refresh[:5]  # sealed, not the token
    [created] = _log(sso_app, "create_user")
    assert created.detail["via"] == "oidc" and created.detail["role"] == "supervisor"
    [signed_in] = _log(sso_app, "sign_in")
    assert signed_in.detail == {"via": "oidc"} and signed_in.session_id


def test_the_same_subject_is_the_same_user_and_a_namesake_is_not_taken_over(
    sso_app, sso_client, sign_in_through
):
    with sso_app.app_context():
        add_user("sgt.oidc", "local-password-1", "officer", "NPT-A")  # same name, not the same
    sign_in_through(sso_client, "sgt.oidc")
    sso_client.post("/console/sign-out")
    sign_in_through(sso_client, "sgt.oidc")
    with sso_app.app_context():
        matched = db.session.scalars(select(User).where(User.oidc_subject == SGT_SUB)).all()
        assert [u.username for u in matched] == ["sgt.oidc-2"]
        local = db.session.scalar(select(User).where(User.username == "sgt.oidc"))
        assert local.oidc_subject is None and local.role == "officer"


def test_someone_with_no_mapped_group_is_told_whom_to_ask(sso_app, sso_client, sign_in_through):
    answer = sign_in_through(sso_client, "civ.nogroup")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 403
    assert "You do not have access to Beatbook yet" in page
    assert "IT service desk (ext. 4711)" in page
    with sso_app.app_context():
        assert db.session.scalar(select(User).where(User.username.like("civ%"))) is None
    [refused] = _log(sso_app, "sign_in_failed")
    assert refused.detail["reason"] == "unmapped" and refused.detail["via"] == "oidc-console"


def test_an_officer_is_sent_to_the_app(sso_app, sso_client, sign_in_through):
    answer = sign_in_through(sso_client, "pc.oidc")
    assert answer.status_code == 403
    assert "Officers use the Beatbook app" in answer.get_data(as_text=True)
    assert sso_client.get("/console/records").status_code == 302


@pytest.mark.parametrize(
    "mode, why",
    [
        ("wrong_aud", "InvalidClaimError: invalid_claim: Invalid claim: 'aud'"),
        ("wrong_iss", "InvalidClaimError: invalid_claim: Invalid claim: 'iss'"),
        ("wrong_nonce", "InvalidClaimError: invalid_claim: Invalid claim: 'nonce'"),
        ("expired", "ExpiredTokenError"),
        ("bad_signature", "BadSignatureError"),
    ],
)
def test_an_id_token_that_does_not_check_out_is_refused(
    sso_app, sso_client, sign_in_through, provider, mode, why
):
    """The provider's own token altered in flight (tests/oidc/provider.mjs): re-signed with its
    key for another audience or with a past expiry, or changed without re-signing."""
    provider.tamper(mode)
    answer = sign_in_through(sso_client, "pc.oidc")
    assert answer.status_code == 401
    assert "could not be trusted" in answer.get_data(as_text=True)
    assert sso_client.get("/console/records").status_code == 302  # no session
    with sso_app.app_context():
        assert db.session.scalar(select(User).where(User.oidc_subject.is_not(None))) is None
    [refused] = _log(sso_app, "sign_in_failed")
    assert refused.detail["reason"] == "bad_id_token"
    assert refused.detail["error"].startswith(why)


def test_a_callback_from_another_browser_is_refused(sso_app, sso_client, provider):
    started = sso_client.get("/oidc/start?to=console")
    back = provider.sign_in(started.headers["Location"], "sgt.oidc")
    parts = urlsplit(back)
    stranger = sso_app.test_client()  # no state in its session: a planted sign-in
    answer = stranger.get(parts.path, query_string=parse_qs(parts.query))
    assert answer.status_code == 401
    assert stranger.get("/console/records").status_code == 302
    [refused] = _log(sso_app, "sign_in_failed")
    assert refused.detail["reason"].startswith("provider:")


def test_a_disabled_account_cannot_sign_in_at_the_provider(sso_client, provider):
    provider.disable("sgt.oidc")
    started = sso_client.get("/oidc/start?to=console")
    with pytest.raises(AssertionError, match="disabled"):
        provider.sign_in(started.headers["Location"], "sgt.oidc")


def test_an_account_deactivated_by_hand_is_refused_whatever_the_provider_says(
    sso_app, sso_client, sign_in_through
):
    from server.accounts.passwords import set_active

    sign_in_through(sso_client, "sgt.oidc")
    sso_client.post("/console/sign-out")
    with sso_app.app_context():
        user = db.session.scalar(select(User).where(User.oidc_subject == SGT_SUB))
        set_active(None, user, False)
    answer = sign_in_through(sso_client, "sgt.oidc")
    assert answer.status_code == 403
    assert "An administrator deactivated your Beatbook account" in answer.get_data(as_text=True)


def test_an_existing_account_linked_by_subject_keeps_its_records(
    sso_app, sso_client, sign_in_through
):
    with sso_app.app_context():
        add_user("sgt.local", "local-password-1", "supervisor", "NPT-A")
        add_user("pc.other", "local-password-1", "officer", "NPT-A")
    runner = sso_app.test_cli_runner()
    result = runner.invoke(args=["user", "link-sso", "sgt.local", SGT_SUB])
    assert result.exit_code == 0, result.output
    assert sign_in_through(sso_client, "sgt.oidc").status_code == 302
    with sso_app.app_context():
        [user] = db.session.scalars(select(User).where(User.oidc_subject == SGT_SUB)).all()
        assert user.username == "sgt.local"
    taken = runner.invoke(args=["user", "link-sso", "pc.other", SGT_SUB])
    assert taken.exit_code == 1 and "already sgt.local's" in taken.output
    assert runner.invoke(args=["user", "link-sso", "nobody", "x"]).exit_code == 1
    assert [e.detail["username"] for e in _log(sso_app, "link_sso")] == ["sgt.local"]
    # Linked, the account signs in at the provider only: its old password no longer opens it
    # (a leaver disabled there must not get in with it), in the console or the app.
    fresh = sso_app.test_client()
    fresh.get("/console/sign-in")
    with fresh.session_transaction() as session:
        token = session.get("csrf", "")
    refused = fresh.post(
        "/console/sign-in",
        data={"username": "sgt.local", "password": "local-password-1", "csrf_token": token},
    )
    assert refused.status_code != 302
    app_refused = fresh.post(
        "/api/v1/auth/device",
        json={"username": "sgt.local", "password": "local-password-1", "device_name": "p"},
    )
    assert app_refused.status_code == 403
    assert app_refused.get_json()["error"]["message"] == (
        "This account signs in with Test Constabulary."
    )
    # Without the password, a linked account answers as an unknown one does: the refusal
    # above must not tell a stranger which usernames exist and are linked.
    answers = [
        fresh.post(
            "/api/v1/auth/device",
            json={"username": name, "password": "not-the-password-1", "device_name": "p"},
        )
        for name in ("sgt.local", "no.such.user")
    ]
    assert [a.status_code for a in answers] == [401, 401]
    assert answers[0].get_json() == answers[1].get_json()
    reasons = [e.detail["reason"] for e in _log(sso_app, "sign_in_failed")]
    assert reasons.count("linked_to_provider") == 2


@pytest.mark.parametrize("race", ["same person", "same username"])
def test_an_account_made_by_another_sign_in_meanwhile_is_no_500(
    sso_app, sso_client, sign_in_through, provider, monkeypatch, race
):
    """Two first sign-ins at once (a double tap on the provider's page, a second tab; or two
    newcomers wanting one username): the one that inserts second signs in to the account the
    first made, or takes the next free username, instead of failing on the unique index."""
    from server.oidc import identity

    free_username = identity._free_username
    calls = []

    def other_sign_in_first(claims, subject):
        name = free_username(claims, subject)
        if not calls:  # the other request commits between this one's lookup and insert
            with db.engine.begin() as other:
                other.execute(
                    User.__table__.insert().values(
                        username=name,
                        display_name="Made meanwhile",
                        password_hash=identity.NO_PASSWORD,
                        role="supervisor",
                        active=True,
                        must_change_password=False,
                        oidc_issuer=provider.issuer if race == "same person" else "elsewhere",
                        oidc_subject=subject if race == "same person" else "someone-else",
                    )
                )
        calls.append(name)
        return name

    monkeypatch.setattr(identity, "_free_username", other_sign_in_first)
    answer = sign_in_through(sso_client, "sgt.oidc")
    assert answer.status_code == 302 and answer.headers["Location"] == "/console/records"
    with sso_app.app_context():
        [user] = db.session.scalars(select(User).where(User.oidc_subject == SGT_SUB)).all()
        if race == "same person":
            assert (user.username, user.display_name) == ("sgt.oidc", "Made meanwhile")
            assert calls == ["sgt.oidc"]
        else:
            assert user.username == "sgt.oidc-2" and calls == ["sgt.oidc", "sgt.oidc-2"]
        assert [t.code for t in user.supervised] == ["NPT-A"]
