"""The conflict queue and resolving: keep either value or write a new one; phones pick it up."""

from __future__ import annotations

import re

import pytest
from console_helpers import (
    access_log,
    edit_record,
    make_conflict,
    open_conflict_ids,
    push_record,
    record_row,
)
from helpers import DeviceClient

from server.console.conflicts import ValueFormError, parse_value
from server.db.models import Conflict


@pytest.fixture
def conflicted(app, client, officer):
    other_phone = DeviceClient(client, "pc.one", "Second phone")
    record_id, conflict_id = make_conflict(app, officer, other_phone)
    return record_id, conflict_id, other_phone


def _pulled(device, record_id):
    changes = device.pull().get_json()["changes"]
    return next(c for c in changes if c["id"] == record_id)


def test_queue_lists_open_conflicts_of_my_teams_only(
    app, client, console, conflicted, other_officer
):
    record_id, conflict_id, _ = conflicted
    theirs, _ = make_conflict(app, other_officer, DeviceClient(client, "pc.two", "Their 2nd"))
    html = console("supervisor").text("/console/conflicts")
    html = re.sub(r"</?mark[^>]*>", "", html)  # the words that differ are marked
    assert record_id in html and theirs not in html
    assert "First phone&#39;s summary" in html and "Second phone&#39;s summary" in html
    admin_html = console("admin", None).text("/console/conflicts")
    assert record_id in admin_html and theirs in admin_html


@pytest.mark.parametrize(
    "choice, expected",
    [
        ("winner", "First phone's summary"),
        ("loser", "Second phone's summary"),
    ],
)
def test_keep_either_value_and_phones_see_it(app, console, conflicted, choice, expected):
    record_id, conflict_id, other_phone = conflicted
    person = console("supervisor")
    response = person.post(
        f"/console/conflicts/{conflict_id}/resolve",
        {"choice": choice, "next": "/console/conflicts"},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/console/conflicts"
    record = record_row(app, record_id)
    assert record.summary == expected and record.open_conflicts == 0
    assert open_conflict_ids(app, record_id) == []
    for phone in (other_phone,):
        pulled = _pulled(phone, record_id)
        assert pulled["data"]["summary"] == expected and pulled["conflicts"] == []
    assert "No open conflicts" in person.text("/console/conflicts")


def test_write_a_new_value(app, console, conflicted, officer):
    record_id, conflict_id, _ = conflicted
    person = console("supervisor")
    person.post(
        f"/console/conflicts/{conflict_id}/resolve",
        {"choice": "new", "value": "Both phones' words, merged by the sergeant"},
    )
    assert record_row(app, record_id).summary == "Both phones' words, merged by the sergeant"
    pulled = _pulled(officer, record_id)
    assert pulled["data"]["summary"] == "Both phones' words, merged by the sergeant"


def test_resolution_is_logged_and_in_the_history(app, console, conflicted):
    record_id, conflict_id, _ = conflicted
    person = console("supervisor")
    person.post(f"/console/conflicts/{conflict_id}/resolve", {"choice": "loser"})
    logged = access_log(app, "resolve_conflict")
    assert len(logged) == 1 and logged[0].target_id == record_id
    assert logged[0].detail["choice"] == "loser" and logged[0].detail["field"] == "summary"
    # Free text by its length only: the append-only log must not keep what an erasure removes.
    assert "value" not in logged[0].detail and logged[0].detail["value_chars"] > 0
    html = person.text(f"/console/records/{record_id}")
    assert "Console" in html[html.index("<h2>History</h2>") :]


def test_bad_new_value_is_explained(app, console, conflicted):
    record_id, conflict_id, _ = conflicted
    person = console("supervisor")
    response = person.post(
        f"/console/conflicts/{conflict_id}/resolve", {"choice": "new", "value": ""}
    )
    assert response.status_code == 400  # the page again, not a redirect that forgets the form
    assert "That value cannot be saved" in response.get_data(as_text=True)
    assert open_conflict_ids(app, record_id) == [conflict_id]


def test_a_refused_value_stays_typed_in_for_correcting(app, client, console, officer):
    other_phone = DeviceClient(client, "pc.one", "Second phone")
    record_id = push_record(officer, people_count=4)
    assert edit_record(other_phone, record_id, 1, people_count=5)["status"] == "applied"
    assert edit_record(officer, record_id, 1, people_count=6)["status"] == "conflict"
    (conflict_id,) = open_conflict_ids(app, record_id)
    person = console("supervisor")
    for page in ("/console/conflicts", f"/console/records/{record_id}"):
        response = person.post(
            f"/console/conflicts/{conflict_id}/resolve",
            {"choice": "new", "value": "seven", "next": page},
        )
        html = response.get_data(as_text=True)
        assert response.status_code == 400, page
        assert "People engaged is a whole number." in html
        form = html[html.index(f'id="c{conflict_id}-new"') - 400 :]
        assert 'value="new" checked' in form and 'inputmode="numeric"' in form
        assert 'value="seven"' in form and 'aria-invalid="true"' in form
    assert open_conflict_ids(app, record_id) == [conflict_id]


def test_no_choice_is_explained(app, console, conflicted):
    _, conflict_id, _ = conflicted
    person = console("supervisor")
    person.post(f"/console/conflicts/{conflict_id}/resolve", {})
    assert "Choose which value to keep." in person.text("/console/conflicts")


def test_resolving_twice_says_so(app, console, conflicted):
    _, conflict_id, _ = conflicted
    person = console("supervisor")
    person.post(f"/console/conflicts/{conflict_id}/resolve", {"choice": "winner"})
    person.post(f"/console/conflicts/{conflict_id}/resolve", {"choice": "loser"})
    assert "already resolved" in person.text("/console/conflicts")


def test_other_team_cannot_resolve(app, console, conflicted):
    record_id, conflict_id, _ = conflicted
    response = console("supervisor", "NPT-TWO").post(
        f"/console/conflicts/{conflict_id}/resolve", {"choice": "loser"}
    )
    assert response.status_code == 404
    assert open_conflict_ids(app, record_id) == [conflict_id]


def test_next_cannot_leave_the_site(app, console, conflicted):
    _, conflict_id, _ = conflicted
    response = console("supervisor").post(
        f"/console/conflicts/{conflict_id}/resolve",
        {"choice": "winner", "next": "https://evil.example"},
    )
    assert response.headers["Location"] == "/console/records"


def _conflict(field, winner, loser=None):
    return Conflict(field=field, winner={"value": winner}, loser={"value": loser})


@pytest.mark.parametrize(
    "conflict, raw, expected",
    [
        (_conflict("summary", "a", "b"), "  new words ", "new words"),
        (_conflict("people_count", 3, 4), "12", 12),
        (_conflict("people_count", None, 4), "", None),
        (
            _conflict("groups", ["a"], ["b"]),
            "young_people, faith_groups",
            ["young_people", "faith_groups"],
        ),
        (_conflict("public", True, False), "no", False),
        (_conflict("_deleted", True, False), "yes", True),
        (
            _conflict("location", {"lat": 1, "lon": 2}, None),
            '{"lat": 3, "lon": 4}',
            {"lat": 3, "lon": 4},
        ),
    ],
)
def test_typed_values_are_read_as_the_fields_type(conflict, raw, expected):
    assert parse_value(conflict, raw) == expected


@pytest.mark.parametrize(
    "conflict, raw",
    [
        (_conflict("people_count", 3, 4), "several"),
        (_conflict("public", True, False), "perhaps"),
        (_conflict("location", {"lat": 1}, None), "{not json"),
    ],
)
def test_unreadable_typed_values_are_refused(conflict, raw):
    with pytest.raises(ValueFormError):
        parse_value(conflict, raw)


def test_deleted_conflict_restore(app, client, console, officer):
    """A delete concurrent with an edit: the supervisor restores the record."""
    record_id = push_record(officer, summary="Keep me")
    other_phone = DeviceClient(client, "pc.one", "Second phone")
    assert (
        other_phone.push(
            [
                {
                    "id": record_id,
                    "op": "upsert",
                    "hlc": other_phone.stamp(),
                    "base_rev": 1,
                    "data": {"people_count": 7},
                }
            ]
        ).get_json()["results"][0]["status"]
        == "applied"
    )
    result = officer.push(
        [{"id": record_id, "op": "delete", "hlc": officer.stamp(), "base_rev": 1, "data": {}}]
    ).get_json()["results"][0]
    assert result["status"] == "conflict", result
    (conflict_id,) = open_conflict_ids(app, record_id)
    person = console("supervisor")
    html = person.text("/console/conflicts")
    assert "Deleted" in html and "yes to keep deleted, no to restore" in html
    person.post(f"/console/conflicts/{conflict_id}/resolve", {"choice": "new", "value": "no"})
    record = record_row(app, record_id)
    assert record.deleted is False and record.open_conflicts == 0
