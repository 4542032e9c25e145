"""The public team page: what the team did, with no names, no places and no private text."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from assessment_force import PASSWORD

from server.assessment.periods import containing_moment
from server.db import db
from server.db.models import PlannedMeeting, Record, Team


@pytest.fixture
def team_page(app, force):
    pc = force.officer("NPT-A", "pc.secret")
    now = datetime.now(timezone.utc)
    # Halfway between the start of this (local) month and now: inside the month whenever it runs.
    month = containing_moment(now.replace(tzinfo=None), "month", ZoneInfo("Europe/London"))
    base = month.start_utc + (now.replace(tzinfo=None) - month.start_utc) / 2
    t = lambda seconds: (base + timedelta(seconds=seconds)).replace(tzinfo=timezone.utc).isoformat()  # noqa: E731
    ids = force.add_many(
        pc,
        [
            (
                t(0),
                "face_to_face",
                {
                    "summary": "Private chat with a shopkeeper",
                    "place": "12 Acacia Road",
                    "people_count": 2,
                    "groups": ["businesses"],
                },
            ),
            (
                t(1),
                "community_meeting",
                {
                    "summary": "PACT notes",
                    "place": "Hall on Elm St",
                    "people_count": 17,
                    "groups": ["older_people"],
                },
            ),
            (t(2), "feedback", {"summary": "You said parking; we did 20 tickets", "public": True}),
            (t(3), "feedback", {"summary": "You said litter; we did a clean-up", "public": True}),
            (t(4), "feedback", {"summary": "Internal: follow up with council", "public": False}),
            (t(5), "community_alert", {"summary": "Deleted alert text"}),
        ],
    )
    force.review(ids[2], "approved")  # ids[3] is public but waits for a supervisor
    force.review(ids[4], "approved")
    force.delete(pc, ids[5])
    team = db.session.query(Team).filter_by(code="NPT-A").one()
    db.session.add_all(
        [
            PlannedMeeting(
                team_id=team.id,
                kind="beat_surgery",
                title="Beat surgery at the library",
                starts_at=now.replace(tzinfo=None) + timedelta(days=3),
            ),
            PlannedMeeting(
                team_id=team.id,
                kind="community_meeting",
                title="Cancelled PACT",
                starts_at=now.replace(tzinfo=None) + timedelta(days=4),
                cancelled=True,
            ),
            PlannedMeeting(
                team_id=team.id,
                kind="community_meeting",
                title="Last week's PACT",
                starts_at=now.replace(tzinfo=None) - timedelta(days=7),
            ),
        ]
    )
    db.session.commit()
    return ids


def test_public_page_needs_no_sign_in_and_shows_what_the_team_did(client, team_page):
    response = client.get("/teams/NPT-A")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=300"
    text = response.get_data(as_text=True)
    assert "Team NPT-A" in text and "Covering NPT-A area" in text
    assert "You said parking; we did 20 tickets" in text  # public and approved
    assert "Beat surgery at the library" in text
    assert "Older people" in text and "Businesses" in text


@pytest.mark.parametrize(
    "secret",
    [
        "PC.SECRET",
        "pc.secret",  # no officer names
        "Acacia Road",
        "Elm St",  # no places
        "Private chat",
        "PACT notes",
        "Internal: follow up",  # no free text that is not public
        "You said litter",  # public but not yet approved by a supervisor
        "Deleted alert",  # deleted records never
        "Cancelled PACT",
        "Last week's PACT",  # only coming, not cancelled, meetings
    ],
)
def test_public_page_never_shows(client, team_page, secret):
    assert secret not in client.get("/teams/NPT-A").get_data(as_text=True)
    assert secret not in client.get("/teams/NPT-A.json").get_data(as_text=True)


def test_public_json_counts(client, team_page):
    body = client.get("/teams/NPT-A.json").get_json()
    month = body["month"]
    # The deleted alert is not counted; three feedback records count as engagements.
    assert {k["kind"]: k["count"] for k in month["by_kind"]} == {
        "face_to_face": 1,
        "community_meeting": 1,
        "feedback": 3,
    }
    assert month["people_reached"] == 19 and month["meetings_held"] == 1
    # No broadcast kind counted (the alert was deleted): everyone reached was spoken with.
    assert (month["people_spoken_with"], month["audience_reached"]) == (19, 0)
    assert [g["code"] for g in month["groups_reached"]] == ["older_people", "businesses"]
    assert month["groups_reached"][0]["seldom_heard"] is True
    assert [m["title"] for m in body["coming_up"]] == ["Beat surgery at the library"]
    assert [f["text"] for f in body["you_said_we_did"]] == ["You said parking; we did 20 tickets"]
    assert body["quarter"]["engagements"] >= month["engagements"]


def test_counts_follow_the_catalogue_and_the_page_says_so(client, force, team_page):
    """Dorset's rule (returned_records_count false): records waiting for review count, returned
    ones do not; the page says both and how many of its records wait."""
    body = client.get("/teams/NPT-A.json").get_json()
    month = body["month"]
    # Six made, one deleted; the approved feedback and the approved internal note are reviewed.
    assert (month["engagements"], month["not_yet_reviewed"]) == (5, 3)
    assert "not reviewed yet are included" in body["counting_rule"]
    assert "sent back for correction are left out" in body["counting_rule"]
    html = client.get("/teams/NPT-A").get_data(as_text=True)
    assert "3 of these 5 are not yet reviewed by a supervisor" in html
    assert "Dorset Police Neighbourhood Engagement Contract" in html
    meeting = db.session.scalar(sa.select(Record.id).where(Record.kind == "community_meeting"))
    force.review(meeting, "returned")
    month = client.get("/teams/NPT-A.json").get_json()["month"]
    assert (month["engagements"], month["not_yet_reviewed"], month["meetings_held"]) == (4, 2, 0)


def test_an_audience_reached_online_is_not_people_spoken_with(client, force, team_page):
    when = db.session.get(Record, team_page[0]).occurred_at.replace(tzinfo=timezone.utc)
    force.add("pc.secret", when.isoformat(), "social_media_post", people_count=250)
    month = client.get("/teams/NPT-A.json").get_json()["month"]
    assert (month["people_reached"], month["people_spoken_with"]) == (269, 19)
    assert month["audience_reached"] == 250
    html = client.get("/teams/NPT-A").get_data(as_text=True)
    assert "<strong>19</strong> people spoken with" in html
    assert "<strong>250</strong> reached by posts and alerts" in html


def test_unknown_or_inactive_team_is_not_found(client, team_page):
    response = client.get("/teams/NPT-ZZZ")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    # The site's own page, in its layout, with the way back: not werkzeug's bare "Not Found".
    assert "<main" in html and "We could not find that team" in html and "NPT-ZZZ" in html
    assert 'href="/teams"' in html
    missing = client.get("/teams/NPT-ZZZ.json")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    team = db.session.query(Team).filter_by(code="NPT-A").one()
    team.active = False
    db.session.commit()
    assert client.get("/teams/NPT-A").status_code == 404
    assert "NPT-A" not in client.get("/teams").get_data(as_text=True)


def test_supervisors_announce_and_take_off_meetings(client, force, team_page):
    force.user("supervisor", "NPT-A", "sgt.a")
    client.post("/console/sign-in", data={"username": "sgt.a", "password": PASSWORD})
    soon = datetime.now(timezone.utc) + timedelta(days=10)
    response = client.post(
        "/console/assessment/teams/NPT-A/meetings",
        data={
            "kind": "community_meeting",
            "title": "PACT at the Westham hall",
            "date": soon.date().isoformat(),
            "time": "19:00",
        },
    )
    assert response.status_code == 302
    assert "PACT at the Westham hall" in client.get("/teams/NPT-A").get_data(as_text=True)
    refused = client.post(
        "/console/assessment/teams/NPT-A/meetings",
        data={"kind": "face_to_face", "title": "", "date": "2020-01-01", "time": "19:00"},
    )
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert (
        "Choose the kind" in text
        and "title for the public" in text
        and "That time has passed" in text
    )
    meeting = db.session.query(PlannedMeeting).filter_by(title="PACT at the Westham hall").one()
    client.post(f"/console/assessment/teams/NPT-A/meetings/{meeting.id}/cancel")
    assert "PACT at the Westham hall" not in client.get("/teams/NPT-A").get_data(as_text=True)


def test_the_list_of_teams_answers_with_a_slash_too(client, team_page):
    response = client.get("/teams/")
    assert response.status_code == 308 and response.headers["Location"] == "/teams"
    assert "NPT-A" in client.get("/teams/", follow_redirects=True).get_data(as_text=True)
