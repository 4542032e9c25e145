"""The priority loop's record fields through push (issue 15): concerns on any record, a local
priority's own fields, links to a priority, and the rules a phone cannot talk its way past."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from helpers import create_change

from server.db import db
from server.db.models import Record, User

PRIORITY = {
    "kind": "local_priority",
    "standards": [],
    "title": "Speeding on Mill Lane",
    "summary": "Set at the October PACT meeting from residents' concerns.",
    "priority_status": "open",
    "review_by": "2026-12-31",
}


def _push(device, change):
    result = device.push([change]).get_json()["results"][0]
    return result["status"], result.get("errors", {})


def _user_id(app, username):
    with app.app_context():
        return db.session.scalar(sa.select(User.id).where(User.username == username))


def _data(app, record_id):
    with app.app_context():
        record = db.session.get(Record, record_id)
        return None if record is None else dict(record.data)


def _edit(device, record_id, base_rev=1, **data):
    return {
        "id": record_id,
        "op": "upsert",
        "hlc": device.stamp(),
        "base_rev": base_rev,
        "data": data,
    }


def test_concerns_ride_on_any_record_and_sync(app, device):
    concerns = [
        {"category": "speeding", "phrase": "cars racing past the school at 3pm"},
        {"category": "parking"},
    ]
    change = create_change(device, concerns=concerns)
    assert _push(device, change) == ("applied", {})
    stored = _data(app, change["id"])["concerns"]
    assert stored == [concerns[0], {"category": "parking", "phrase": ""}]
    pulled = {c["id"]: c for c in device.pull().get_json()["changes"]}
    assert pulled[change["id"]]["data"]["concerns"] == stored


def test_a_record_without_the_new_fields_stores_none_of_them(app, device):
    change = create_change(device)
    device.push([change])
    assert not set(_data(app, change["id"])) & {"concerns", "priority_id", "title", "owner_id"}


@pytest.mark.parametrize(
    "concerns, message",
    [
        ([{"category": "graffiti_art"}], "Unknown concern categories: graffiti_art."),
        ([{"category": "noise", "phrase": "x" * 121}], "Longer than maximum length 120."),
        ([{"phrase": "loud music"}], "Missing data for required field."),
        ([{"category": "noise", "name": "Mrs Smith"}], "Unknown field."),
        ([{"category": "noise"}] * 21, "Longer than maximum length 20."),
    ],
)
def test_bad_concerns_are_refused_precisely(app, device, concerns, message):
    change = create_change(device, concerns=concerns)
    status, errors = _push(device, change)
    assert status == "rejected"
    assert message in str(errors)
    assert _data(app, change["id"]) is None


def test_a_local_priority_with_its_owner_meeting_and_concerns(app, make_user, new_device):
    officer = make_user("officer", "NPT-ONE")
    phone = new_device(officer)
    raised = create_change(phone, concerns=[{"category": "speeding", "phrase": "Mill Lane"}])
    meeting = create_change(phone, kind="community_meeting", standards=["MEET"])
    priority = create_change(
        phone,
        **PRIORITY,
        owner_id=_user_id(app, officer),
        meeting_id=meeting["id"],
        concern_record_ids=[raised["id"]],
    )
    results = phone.push([raised, meeting, priority]).get_json()["results"]
    assert [r["status"] for r in results] == ["applied"] * 3
    stored = _data(app, priority["id"])
    assert stored["title"] == "Speeding on Mill Lane"
    assert stored["concern_record_ids"] == [raised["id"]]
    assert stored["owner_id"] == _user_id(app, officer)


def test_an_action_and_feedback_link_to_a_priority(app, device):
    priority = create_change(device, **PRIORITY)
    action = create_change(device, kind="partner_meeting", standards=[], priority_id=priority["id"])
    feedback = create_change(
        device, kind="feedback", standards=[], priority_id=priority["id"], public=True
    )
    results = device.push([priority, action, feedback]).get_json()["results"]
    assert [r["status"] for r in results] == ["applied"] * 3
    assert _data(app, feedback["id"])["priority_id"] == priority["id"]


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"title": ""}, "title", "A local priority needs a title."),
        ({"title": "x" * 201}, "title", "Longer than maximum length 200."),
        ({"priority_status": "done"}, "priority_status", "Must be one of: open, in_progress"),
        ({"priority_status": "closed", "closed_on": "2026-11-01"}, "closed_reason", "Say why"),
        ({"priority_status": "resolved"}, "closed_on", "Say the day the priority ended."),
        ({"review_by": "31/12/2026"}, "review_by", "Must be a date, YYYY-MM-DD."),
        ({"review_by": "2026-02-30"}, "review_by", "Is not a date in the calendar."),
        ({"review_by": "1999-12-31"}, "review_by", "Is before the year 2000."),
        (
            {"priority_status": "resolved", "closed_on": "2099-01-01"},
            "closed_on",
            "Is in the future",
        ),
        ({"meeting_id": "not-a-record"}, "meeting_id", "Must be a UUID."),
        ({"concern_record_ids": ["x"]}, "concern_record_ids", "Must be a UUID."),
        ({"owner_id": "7"}, "owner_id", "Not a valid integer."),
    ],
)
def test_a_priority_breaking_its_rules_is_refused_and_not_stored(
    app, device, fields, field, message
):
    change = create_change(device, **{**PRIORITY, **fields})
    status, errors = _push(device, change)
    assert status == "rejected"
    assert message in str(errors[field])
    assert _data(app, change["id"]) is None


def test_an_owner_from_another_team_or_nowhere_is_refused(app, make_user, device):
    stranger = _user_id(app, make_user("officer", "NPT-TWO"))
    for owner in (stranger, 999_999):
        change = create_change(device, **PRIORITY, owner_id=owner)
        status, errors = _push(device, change)
        assert status == "rejected"
        assert errors["owner_id"] == [
            "Is not an officer of this team: choose the owner from the team."
        ]


def test_priority_fields_on_another_kind_are_refused_on_create_and_on_edit(app, device):
    change = create_change(device, title="Not a priority")
    status, errors = _push(device, change)
    assert (status, errors["title"]) == ("rejected", ["Only a local priority has this field."])
    record = create_change(device)
    device.push([record])
    # An edit that does not send the kind is checked against the stored one.
    status, errors = _push(device, _edit(device, record["id"], review_by="2026-12-31"))
    assert (status, errors["review_by"]) == ("rejected", ["Only a local priority has this field."])
    assert "review_by" not in _data(app, record["id"])


def test_a_priority_is_edited_field_by_field_like_any_record(app, device):
    priority = create_change(device, **PRIORITY)
    device.push([priority])
    closing = _edit(
        device,
        priority["id"],
        priority_status="closed",
        closed_on="2026-11-20",
        closed_reason="The council moved the speed cameras; nothing left for us to do.",
    )
    assert _push(device, closing) == ("applied", {})
    stored = _data(app, priority["id"])
    assert (stored["priority_status"], stored["title"]) == ("closed", PRIORITY["title"])


def test_a_link_to_a_record_that_is_not_there_is_kept_for_read_time(app, device):
    # Offline, a phone may link to a priority another phone has not synced yet: the link is
    # stored and resolved when read (only within the team), never refused for being early.
    change = create_change(device, priority_id=str(uuid.uuid4()))
    assert _push(device, change) == ("applied", {})


def test_erasure_keeps_a_concerns_category_and_removes_its_phrase():
    from server.records.redaction import scrubbed_data

    data = {
        "concerns": [{"category": "drugs", "phrase": "dealing outside no. 4"}],
        "title": "Drug dealing on Elm Road",
        "closed_reason": "Moved on",
    }
    scrubbed = scrubbed_data(data, "[Text erased on request]")
    assert scrubbed == {
        "concerns": [{"category": "drugs", "phrase": "[Text erased on request]"}],
        "title": "[Text erased on request]",
        "closed_reason": "[Text erased on request]",
    }


def test_the_personal_data_check_reads_concerns_and_priority_text():
    from schema.pii import detect_record

    found = detect_record(
        {
            "concerns": [{"category": "noise", "phrase": "ring 07700 900123 about it"}],
            "title": "Speeding",
            "closed_reason": "Email j.bloggs@example.com if it starts again",
        }
    )
    assert found == {"concerns": ["phone"], "closed_reason": ["email"]}
