"""Password change and reset, deactivation of any role, sign-in throttling (issue 11 items 6, 9)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from console_helpers import Console, access_log, user_id
from helpers import PASSWORD, DeviceClient

from server.db import db
from server.db.models import AuthFailure, Device, User

NEW = "a-brand-new-passphrase"


def _age_failures(app, seconds: int, pairs_only: bool = False) -> None:
    """Move recorded failures into the past (in Python: SQLite has no datetime arithmetic)."""
    with app.app_context():
        query = sa.select(AuthFailure)
        if pairs_only:
            query = query.where(AuthFailure.key.like("pair:%"))
        for row in db.session.scalars(query):
            row.at -= timedelta(seconds=seconds)
        db.session.commit()


def _device_sign_in(client, username, password=PASSWORD, address="10.1.1.1"):
    return client.post(
        "/api/v1/auth/device",
        json={"username": username, "password": password, "device_name": "p"},
        environ_base={"REMOTE_ADDR": address},
    )


def _change(person: Console, current, new, username=None):
    data = {"current": current, "new": new, "confirm": new}
    if username:
        data["username"] = username
    return person.post("/console/password", data)


# --- change password -------------------------------------------------------------------------


def test_an_officer_changes_their_password_without_a_console_session(app, client, officer):
    page = Console(app)
    page.csrf()
    response = _change(page, PASSWORD, NEW, username="pc.one")
    assert response.status_code == 200 and "Sign in on the Beatbook app" in response.get_data(
        as_text=True
    )
    assert _device_sign_in(client, "pc.one").status_code == 401
    assert _device_sign_in(client, "pc.one", NEW).status_code == 201
    assert officer.pull().status_code == 200  # their phones stay signed in
    assert [r.action for r in access_log(app, "password_change")] == ["password_change"]


def test_a_wrong_current_password_changes_nothing_and_counts_as_a_failure(app, client, officer):
    page = Console(app)
    page.csrf()
    response = _change(page, "not-the-password", NEW, username="pc.one")
    assert response.status_code == 400
    assert "The current password is wrong." in response.get_data(as_text=True)
    assert _device_sign_in(client, "pc.one").status_code == 201
    assert [r.detail["via"] for r in access_log(app, "sign_in_failed")] == ["password"]


def test_a_too_short_or_mismatched_new_password_is_refused(app, console):
    person = console("supervisor")
    assert _change(person, PASSWORD, "short").status_code == 400
    response = person.post(
        "/console/password", {"current": PASSWORD, "new": NEW, "confirm": NEW + "x"}
    )
    assert "not the same" in response.get_data(as_text=True)


def test_changing_a_password_ends_the_users_other_console_sessions(app, console):
    person = console("supervisor")
    elsewhere = Console(app, person.username)
    assert _change(person, PASSWORD, NEW).status_code == 302
    assert person.get("/console/records").status_code == 200  # this one stays
    assert elsewhere.get("/console/records").status_code == 302


# --- admin reset ------------------------------------------------------------------------------


def test_admin_reset_forces_a_change_at_next_sign_in(app, client, console, officer):
    admin = console("admin", None)
    temporary = "temporary-pass-123"
    admin.post(f"/console/users/{user_id(app, 'pc.one')}/reset-password", {"password": temporary})
    # The reset signs the phones out at once; they keep their queue and ask for a sign-in.
    assert officer.pull().get_json()["error"]["code"] == "token_revoked"
    refused = _device_sign_in(client, "pc.one", temporary)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "password_change_required"
    assert "/console/password" in refused.get_json()["error"]["message"]
    page = Console(app)
    page.csrf()
    _change(page, temporary, NEW, username="pc.one")
    assert _device_sign_in(client, "pc.one", NEW).status_code == 201
    with app.app_context():
        assert (
            db.session.scalar(sa.select(User.must_change_password).where(User.username == "pc.one"))
            is False
        )
    assert [r.action for r in access_log(app, "password_reset")] == ["password_reset"]


def test_a_reset_console_user_is_sent_to_change_it_first(app, console, make_user):
    sergeant = console("supervisor")
    admin = console("admin", None)
    admin.post(
        f"/console/users/{user_id(app, sergeant.username)}/reset-password",
        {"password": "temporary-pass-123"},
    )
    assert sergeant.get("/console/records").status_code == 302  # their session ended
    again = Console(app)
    response = again.sign_in(sergeant.username, "temporary-pass-123")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/console/password")
    assert again.get("/console/records").status_code == 302  # not signed in
    _change(again, "temporary-pass-123", NEW, username=sergeant.username)
    assert Console(app).sign_in(sergeant.username, NEW).headers["Location"] == "/console/records"


def test_only_admins_reset_and_list_accounts(app, console, officer):
    sergeant = console("supervisor")
    assert sergeant.get("/console/users").status_code == 403
    response = sergeant.post(
        f"/console/users/{user_id(app, 'pc.one')}/reset-password",
        {"password": "temporary-pass-123"},
    )
    assert response.status_code == 403
    assert officer.pull().status_code == 200


# --- deactivation of any role -----------------------------------------------------------------


def test_admin_deactivates_a_supervisor_ending_sessions_and_devices_at_once(app, client, console):
    sergeant = console("supervisor")
    phone = DeviceClient(client, sergeant.username, "Sergeant's phone")
    admin = console("admin", None)
    admin.post(f"/console/users/{user_id(app, sergeant.username)}/active", {"active": "no"})
    assert sergeant.get("/console/records").status_code == 302
    assert phone.pull().get_json()["error"]["code"] == "token_revoked"
    with app.app_context():
        revoked = db.session.scalar(
            sa.select(Device.revoked_at).where(Device.id == phone.device_id)
        )
        assert revoked is not None
    admin.post(f"/console/users/{user_id(app, sergeant.username)}/active", {"active": "yes"})
    assert phone.pull().status_code == 401  # reactivating does not revive the old token
    assert Console(app).sign_in(sergeant.username).status_code == 302


def test_admin_deactivates_another_admin_and_a_panel_member(app, console):
    other_admin, panel = console("admin", None), console("panel", None)
    admin = console("admin", None)
    for person in (other_admin, panel):
        admin.post(f"/console/users/{user_id(app, person.username)}/active", {"active": "no"})
        assert person.get("/console/assessment").status_code == 302


def test_an_admin_cannot_deactivate_themselves(app, console):
    admin = console("admin", None)
    admin.post(f"/console/users/{user_id(app, admin.username)}/active", {"active": "no"})
    assert admin.get("/console/users").status_code == 200


# --- throttling -------------------------------------------------------------------------------


def test_an_attacker_from_one_address_cannot_lock_an_officer_out(app, client, officer):
    for _ in range(30):
        assert _device_sign_in(
            client, "pc.one", "guess-guess-guess", address="203.0.113.9"
        ).status_code in (401, 429)
        _age_failures(app, 1000, pairs_only=True)  # skip the waits: 30 real failures
    assert _device_sign_in(client, "pc.one", address="10.1.1.1").status_code == 201


def test_repeated_failures_from_one_address_wait_longer_each_time(app, client, officer):
    free = app.config["SIGNIN_FREE_TRIES"]
    for _ in range(free):
        assert _device_sign_in(client, "pc.one", "guess-guess-1", "203.0.113.9").status_code == 401
    waited = _device_sign_in(client, "pc.one", PASSWORD, "203.0.113.9")
    assert waited.status_code == 429 and waited.headers["Retry-After"] == "1"
    delays = []
    for _ in range(3):
        _age_failures(app, 60)  # let the wait pass
        assert _device_sign_in(client, "pc.one", "guess", "203.0.113.9").status_code == 401
        delays.append(
            int(
                _device_sign_in(client, "pc.one", "guess-again", "203.0.113.9").headers[
                    "Retry-After"
                ]
            )
        )
    assert delays == [2, 4, 8]
    # The officer on their own phone is not slowed at all.
    assert _device_sign_in(client, "pc.one", PASSWORD, "10.1.1.1").status_code == 201


def test_the_per_account_ceiling_is_high(app):
    assert app.config["SIGNIN_FAILURES_PER_ACCOUNT"] >= 100


def test_failed_sign_ins_are_kept_in_the_access_log_for_good(app, client, officer):
    _device_sign_in(client, "pc.one", "wrong-one-here")
    _device_sign_in(client, "nobody.at.all", "wrong-one-here")
    with app.app_context():  # the counting table is pruned after a day; the log is not
        db.session.execute(sa.delete(AuthFailure))
        db.session.commit()
    rows = access_log(app, "sign_in_failed")
    assert [(r.target_id, r.detail["via"]) for r in rows] == [
        ("pc.one", "app"),
        ("nobody.at.all", "app"),
    ]
    assert rows[0].user_id == user_id(app, "pc.one") and rows[1].user_id is None
    assert rows[0].address == "10.1.1.1"


def test_supervisors_see_repeated_failed_sign_ins(app, client, console, officer):
    sergeant = console("supervisor")
    assert "failed sign-ins today" not in sergeant.text("/console/teams")
    for address in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        _device_sign_in(client, "pc.one", "guess-guess", address)
    html = sergeant.text("/console/teams")
    assert "3 failed sign-ins today" in html and "From 3 addresses" in html
