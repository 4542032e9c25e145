"""Teams and people: list, add an officer, move, deactivate, devices and revoking a lost phone."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from console_helpers import OTHER, TEAM, Console, access_log, push_record, team_id, user_id
from helpers import DeviceClient

from server.clock import utcnow
from server.db import db
from server.db.models import Device, User


def _user(app, username):
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        db.session.expunge_all()
        return user


def test_teams_page_lists_my_team_people_and_device_summary(app, console, officer, make_user):
    make_user("officer", OTHER, username="pc.bravo")
    html = console("supervisor").text("/console/teams")
    assert "NPT-ONE" in html and "pc.one" in html
    assert "NPT-TWO" not in html and "pc.bravo" not in html
    admin = console("admin", None).text("/console/teams")
    assert "NPT-TWO" in admin and "pc.bravo" in admin


def test_add_officer(app, console):
    person = console("supervisor")
    response = person.post(
        "/console/people",
        {
            "username": "PC.New",
            "display_name": "PC 9 New",
            "team": TEAM,
            "password": "a-long-password",
        },
    )
    new = _user(app, "pc.new")
    assert new.role == "officer" and new.team_id == team_id(app, TEAM)
    assert new.display_name == "PC 9 New"
    assert response.headers["Location"] == f"/console/people/{new.id}"
    assert "PC 9 New added to NPT-ONE" in person.text(f"/console/people/{new.id}")
    assert access_log(app, "add_officer")[0].target_id == "pc.new"
    signed_in = app.test_client().post(
        "/api/v1/auth/device",
        json={"username": "pc.new", "password": "a-long-password", "device_name": "New phone"},
    )
    assert signed_in.status_code == 201  # the password works on a phone


def test_add_officer_explains_problems(app, console, officer):
    person = console("supervisor")
    person.post("/console/people", {"username": "pc.short", "team": TEAM, "password": "short"})
    assert "A password needs at least 10 characters." in person.text("/console/teams")
    person.post(
        "/console/people", {"username": "pc.one", "team": TEAM, "password": "long-enough-1"}
    )
    assert "User pc.one already exists." in person.text("/console/teams")
    assert _user(app, "pc.short") is None and access_log(app, "add_officer") == []


def test_supervisor_cannot_add_to_another_team(app, console, make_user):
    make_user("officer", OTHER)
    person = console("supervisor")
    person.post(
        "/console/people", {"username": "pc.sneaky", "team": OTHER, "password": "a-long-password"}
    )
    assert _user(app, "pc.sneaky") is None
    assert "Choose one of your teams" in person.text("/console/teams")


def test_person_page_shows_devices_with_sync_state(app, console, officer):
    push_record(officer)
    with app.app_context():
        device = db.session.get(Device, officer.device_id)
        device.clock_skew_ms = 3 * 3600 * 1000
        device.pending = 4
        device.app_version = "1.2.3"
        db.session.commit()
    html = console("supervisor").text(f"/console/people/{user_id(app, 'pc.one')}")
    for text in (
        "Pixel of pc.one",
        officer.device_id,
        "3.0 h fast",
        "1.2.3",
        "just now",
        ">4<",
        "In use",
        "Revoke",
    ):
        assert text in html, text


def test_move_officer_between_teams(app, make_user, officer):
    name = make_user("admin", None)
    make_user("supervisor", OTHER)
    person = Console(app, name)
    officer_id = user_id(app, "pc.one")
    person.post(f"/console/people/{officer_id}/move", {"team": OTHER})
    assert _user(app, "pc.one").team_id == team_id(app, OTHER)
    assert access_log(app, "move_officer")[0].detail == {"from": TEAM, "to": OTHER}


def test_supervisor_moving_an_officer_away_loses_sight_of_them(app, make_user, officer):
    from server.db.models import Team

    name = make_user("supervisor", TEAM)
    make_user("supervisor", OTHER)
    with app.app_context():  # supervises both teams
        user = db.session.scalar(sa.select(User).where(User.username == name))
        user.supervised.append(db.session.scalar(sa.select(Team).where(Team.code == OTHER)))
        db.session.commit()
    person = Console(app, name)
    response = person.post(f"/console/people/{user_id(app, 'pc.one')}/move", {"team": OTHER})
    assert response.status_code == 302
    assert _user(app, "pc.one").team_id == team_id(app, OTHER)


def test_supervisor_cannot_move_to_a_team_they_do_not_supervise(app, console, officer, make_user):
    make_user("officer", OTHER)
    person = console("supervisor")
    person.post(f"/console/people/{user_id(app, 'pc.one')}/move", {"team": OTHER})
    assert _user(app, "pc.one").team_id == team_id(app, TEAM)


def test_deactivate_ends_every_device_and_reactivate_needs_a_new_sign_in(
    app, client, console, officer
):
    person = console("supervisor")
    officer_id = user_id(app, "pc.one")
    person.post(f"/console/people/{officer_id}/active", {"active": "no"})
    assert _user(app, "pc.one").active is False
    pull = officer.pull()
    assert pull.status_code == 401 and pull.get_json()["error"]["code"] == "token_revoked"
    assert "Deactivated" in person.text("/console/teams")
    person.post(f"/console/people/{officer_id}/active", {"active": "yes"})
    # The tokens were revoked, not merely paused (issue 11): the phone signs in again.
    assert officer.pull().get_json()["error"]["code"] == "token_revoked"
    assert DeviceClient(client, "pc.one", "Same phone").pull().status_code == 200
    assert [r.action for r in access_log(app) if r.action.endswith("activate_officer")] == [
        "deactivate_officer",
        "activate_officer",
    ]


def test_revoke_a_lost_device_at_once(app, client, console, officer):
    spare = DeviceClient(client, "pc.one", "Spare phone")
    person = console("supervisor")
    response = person.post(f"/console/devices/{officer.device_id}/revoke")
    assert response.headers["Location"] == f"/console/people/{user_id(app, 'pc.one')}"
    pull = officer.pull()
    assert pull.status_code == 401 and pull.get_json()["error"]["code"] == "token_revoked"
    assert spare.pull().status_code == 200  # the officer's other phone still works
    with app.app_context():
        device = db.session.get(Device, officer.device_id)
        assert device.revoked_at is not None and device.revoked_by_id is not None
    html = person.text(f"/console/people/{user_id(app, 'pc.one')}")
    assert "Revoked" in html
    assert access_log(app, "revoke_device")[0].target_id == officer.device_id


def test_cannot_touch_another_teams_people_or_devices(app, console, other_officer):
    person = console("supervisor")
    theirs = user_id(app, "pc.two")
    assert person.get(f"/console/people/{theirs}").status_code == 404
    assert person.post(f"/console/people/{theirs}/active", {"active": "no"}).status_code == 404
    assert person.post(f"/console/people/{theirs}/move", {"team": TEAM}).status_code == 404
    assert person.post(f"/console/devices/{other_officer.device_id}/revoke").status_code == 404
    assert other_officer.pull().status_code == 200
    assert _user(app, "pc.two").active is True


def test_supervisors_and_admins_are_not_managed_here(app, console, make_user):
    sergeant = make_user("supervisor", TEAM, username="sgt.other")
    person = console("admin", None)
    assert person.get(f"/console/people/{user_id(app, sergeant)}").status_code == 404


def test_an_admin_revokes_any_phone_a_supervisor_only_officers(app, client, console, make_user):
    """A supervisor's or an admin's phone syncs too (an admin's holds restricted records):
    an admin can revoke it from the Phones page; a supervisor cannot."""
    sergeant = DeviceClient(client, make_user("supervisor", TEAM, username="sgt.phone"), "Sgt")
    boss = DeviceClient(client, make_user("admin", None, username="admin.phone"), "Admin tablet")
    assert (
        console("supervisor").post(f"/console/devices/{sergeant.device_id}/revoke").status_code
        == 404
    )
    admin = console("admin", None)
    assert "Admin tablet" in admin.text("/console/phones")
    for phone in (sergeant, boss):
        assert admin.post(f"/console/devices/{phone.device_id}/revoke").status_code == 302
        assert phone.pull().get_json()["error"]["code"] == "token_revoked"


def test_expired_device_is_shown_as_expired(app, console, officer):
    with app.app_context():
        db.session.get(Device, officer.device_id).expires_at = utcnow() - timedelta(days=1)
        db.session.commit()
    html = console("supervisor").text(f"/console/people/{user_id(app, 'pc.one')}")
    assert "Expired" in html
