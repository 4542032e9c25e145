"""'You said, we did' on the public team page: each priority set from the public's concerns, its
status, what was done and when, and the public feedback; no names, no unapproved free text."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from server.db import db
from server.records.redaction import restrict


def ago(days: float) -> str:
    return (datetime.now(timezone.utc) - timedelta(days=days)).isoformat()


def local_day(days: float) -> str:
    from zoneinfo import ZoneInfo

    moment = datetime.now(timezone.utc) - timedelta(days=days)
    day = moment.astimezone(ZoneInfo("Europe/London")).date()
    return f"{day:%d %B %Y}".lstrip("0")


@pytest.fixture
def loops(app, force):
    pc = force.officer("NPT-A", "pc.secret")
    other = force.officer("NPT-B", "pc.other")
    add = force.add
    raised = add(
        pc,
        ago(20),
        "face_to_face",
        summary="Mrs Jones at no. 4 says cars race at night",
        concerns=[
            {"category": "speeding", "phrase": "Mrs Jones: cars race past no. 4"},
            {"category": "noise", "phrase": "revving at 2am"},
        ],
    )
    parking = add(pc, ago(19), "beat_surgery", concerns=[{"category": "parking", "phrase": "vans"}])
    ids = {}
    # Public and approved title; an action, a deleted action, public approved feedback, a
    # private feedback and a public one not yet approved.
    ids["speed"] = add(
        pc,
        ago(15),
        "local_priority",
        title="Speeding on Mill Lane",
        summary="Set at PACT; PC Secret to lead",
        priority_status="in_progress",
        concern_record_ids=[raised],
        public=True,
        standards=[],
    )
    force.review(ids["speed"], "approved")
    add(pc, ago(10), "partner_meeting", summary="Met Cllr Smith", priority_id=ids["speed"])
    gone = add(pc, ago(9), "face_to_face", priority_id=ids["speed"])
    force.delete(pc, gone)
    said = add(
        pc,
        ago(5),
        "feedback",
        summary="You said speeding; we ran speed checks",
        public=True,
        priority_id=ids["speed"],
    )
    force.review(said, "approved")
    add(pc, ago(4), "feedback", summary="Internal note", public=False, priority_id=ids["speed"])
    add(pc, ago(3), "feedback", summary="Unapproved words", public=True, priority_id=ids["speed"])
    # Not marked public: the concerns' categories stand in for its title; resolved.
    ids["parking"] = add(
        pc,
        ago(14),
        "local_priority",
        title="Vans of the Smith family",
        priority_status="resolved",
        closed_on=(datetime.now(timezone.utc) - timedelta(days=2)).date().isoformat(),
        concern_record_ids=[parking],
        standards=[],
    )
    # No concerns behind it (one named points at another team's record): not shown.
    elsewhere = add(other, ago(18), "face_to_face", concerns=[{"category": "drugs"}])
    ids["internal"] = add(
        pc,
        ago(13),
        "local_priority",
        title="Team admin",
        concern_record_ids=[elsewhere],
        public=True,
        standards=[],
    )
    # Restricted: not shown at all.
    ids["restricted"] = add(
        pc,
        ago(12),
        "local_priority",
        title="Restricted one",
        concern_record_ids=[raised],
        public=True,
        standards=[],
    )
    restrict(db.session, [ids["restricted"]], by_id=None)
    db.session.commit()
    return ids


def test_you_said_we_did_shows_each_priority_plainly(client, loops):
    text = client.get("/teams/NPT-A").get_data(as_text=True)
    assert "Speeding on Mill Lane" in text
    assert "In progress" in text and "from concerns about speeding, noise" in text
    assert f"Partner meeting, {local_day(10)}" in text
    assert "You said speeding; we ran speed checks" in text
    assert "You told us about parking" in text and "Resolved</strong> on" in text
    for never in (
        "Vans of the Smith family",  # a title not marked public
        "Mrs Jones",  # a concern's phrase, and a summary
        "revving",
        "Internal note",  # feedback not marked public
        "Unapproved words",  # public but not approved
        "Met Cllr Smith",  # an action's free text
        "PC Secret",
        "pc.secret",
        "PC.SECRET",
        "Team admin",  # not set from the public's concerns
        "Restricted one",
        f"Face-to-face contact, {local_day(9)}",  # the deleted action
    ):
        assert never not in text, never
    # The linked feedback is shown under its priority, not again among other updates.
    assert text.count("You said speeding; we ran speed checks") == 1


def test_you_said_we_did_in_the_json(client, loops):
    body = client.get("/teams/NPT-A.json").get_json()
    found = {p["about"]: p for p in body["priorities"]}
    assert list(found) == ["Parking", "Speeding on Mill Lane"]  # newest first
    speed = found["Speeding on Mill Lane"]
    assert speed["title"] == "Speeding on Mill Lane" and speed["status"] == "in_progress"
    assert [c["code"] for c in speed["concerns"]] == ["speeding", "noise"]
    assert [a["kind"] for a in speed["actions"]] == ["partner_meeting"]
    assert [f["text"] for f in speed["feedback"]] == ["You said speeding; we ran speed checks"]
    parking = found["Parking"]
    assert parking["title"] is None and parking["status_words"] == "Resolved"
    assert parking["ended_on"] is not None and parking["feedback"] == []
    assert "Smith" not in str(body) and "Mrs Jones" not in str(body)
