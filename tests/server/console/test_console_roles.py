"""The role x page matrix: who reaches which console page and action, and what others get."""

from __future__ import annotations

import pytest
from console_helpers import OTHER, TEAM, Console, make_conflict, user_id
from helpers import DeviceClient

ROLES = ("anonymous", "officer", "supervisor", "other_supervisor", "admin", "panel")
# page -> expected status per role (302 = sent to sign in)
PAGES = {
    "/console/records": (302, 302, 200, 200, 200, 403),
    "/console/records/{record}": (302, 302, 200, 404, 200, 403),
    "/console/records/export.csv": (302, 302, 200, 200, 200, 403),
    "/console/conflicts": (302, 302, 200, 200, 200, 403),
    "/console/teams": (302, 302, 200, 200, 200, 403),
    "/console/people/{officer}": (302, 302, 200, 404, 200, 403),
    "/console/activity": (302, 302, 200, 200, 200, 403),
    "/console/access-log": (302, 302, 403, 403, 200, 403),
}
# action -> (form, expected status per role); 302 is the success redirect for signed-in roles and
# the sign-in redirect for the forged officer session; with no session at all the CSRF check
# refuses the form first (400).
ACTIONS = {
    "/console/records/{record}/review": ({"state": "approved"}, (400, 302, 302, 404, 302, 403)),
    "/console/conflicts/{conflict}/resolve": ({"choice": "winner"}, (400, 302, 302, 404, 302, 403)),
    "/console/people": (
        {"username": "pc.new", "password": "long-enough-pw", "team": TEAM},
        (400, 302, 302, 302, 302, 403),
    ),
    "/console/people/{officer}/move": ({"team": TEAM}, (400, 302, 302, 404, 302, 403)),
    "/console/people/{officer}/active": ({"active": "no"}, (400, 302, 302, 404, 302, 403)),
    "/console/devices/{device}/revoke": ({}, (400, 302, 302, 404, 302, 403)),
}


@pytest.fixture
def world(app, client, make_user):
    """A record with an open conflict in NPT-ONE, its officer and phones, and one person per
    role."""
    officer = make_user("officer", TEAM, username="pc.one")
    phone_a, phone_b = DeviceClient(client, officer, "A"), DeviceClient(client, officer, "B")
    record_id, conflict_id = make_conflict(app, phone_a, phone_b)
    people = {
        "supervisor": make_user("supervisor", TEAM),
        "other_supervisor": make_user("supervisor", OTHER),
        "admin": make_user("admin", None),
        "panel": make_user("panel", None),
    }
    ids = {
        "record": record_id,
        "conflict": conflict_id,
        "officer": user_id(app, officer),
        "device": phone_a.device_id,
    }
    return people, ids, officer


def session_for(app, role: str, people: dict, officer: str) -> Console:
    if role == "anonymous":
        return Console(app)
    if role == "officer":
        # Even a session cookie naming an officer (made with the secret key) opens nothing.
        person = Console(app)
        with person.client.session_transaction() as session:
            session["console_user_id"] = user_id(app, officer)
            session["console_started"] = 2_000_000_000
            session["csrf"] = "token"
        return person
    return Console(app, people[role])


@pytest.mark.parametrize("role_index, role", list(enumerate(ROLES)))
@pytest.mark.parametrize("page", list(PAGES))
def test_page_access(app, world, page, role_index, role):
    people, ids, officer = world
    person = session_for(app, role, people, officer)
    response = person.get(page.format(**ids))
    assert response.status_code == PAGES[page][role_index]
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/console/sign-in")


@pytest.mark.parametrize("role_index, role", list(enumerate(ROLES)))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_action_access(app, world, action, role_index, role):
    people, ids, officer = world
    person = session_for(app, role, people, officer)
    form, expected = ACTIONS[action]
    response = person.post(action.format(**ids), form)
    assert response.status_code == expected[role_index]
    if role == "officer":
        assert response.headers["Location"].startswith("/console/sign-in")


def test_panel_never_sees_free_text_or_devices(app, world):
    people, ids, officer = world
    person = Console(app, people["panel"])
    for page in PAGES:
        body = person.get(page.format(**ids)).get_data(as_text=True)
        assert "summary" not in body.lower() or "Not for your role" in body
        assert ids["device"] not in body
        assert "First phone" not in body and "Second phone" not in body


def test_navigation_follows_the_role(app, world):
    people, _, _ = world
    nav = {
        role: Console(app, people[role]).text("/console/activity")
        for role in ("supervisor", "admin")
    }
    assert "Access log" in nav["admin"] and "Access log" not in nav["supervisor"]
    assert '<a href="/console/assessment">Assessment</a>' in nav["supervisor"]
