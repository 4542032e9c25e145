"""Local priorities set and edited in the console (issue 15): a console write is a change through
the sync engine like a phone's, so phones pull it, the history shows it and a concurrent phone
edit of the same field is a conflict."""

from __future__ import annotations

import html
import json

import sqlalchemy as sa
from console_helpers import (
    OTHER,
    TEAM,
    access_log,
    edit_record,
    push_record,
    record_row,
    user_id,
)

from server.db import db
from server.db.models import Change, Conflict, Record

NEW = f"/console/priorities/{TEAM}/new"


def _form(**overrides) -> dict:
    form = {
        "title": "Speeding on Mill Lane at school times",
        "summary": "Raised by parents at the gate; set at the October PACT.",
        "set_on": "2026-10-14",
        "priority_status": "open",
        "review_by": "2027-01-15",
        "owner_id": "",
        "meeting_id": "",
        "closed_on": "",
        "closed_reason": "",
    }
    form.update(overrides)
    return form


def _priorities(app) -> list[Record]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Record).where(Record.kind == "local_priority")))


def _create(sarge, **form) -> str:
    response = sarge.post(NEW, _form(**form))
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[-1]


def test_a_supervisor_sets_a_priority_from_the_teams_concerns(app, console, officer):
    raised = push_record(
        officer, concerns=[{"category": "speeding", "phrase": "cars racing at 3pm"}]
    )
    meeting = push_record(officer, kind="community_meeting", standards=["MEET"])
    sarge = console("supervisor")
    page = sarge.text(NEW)
    assert "cars racing at 3pm" in page and "Speeding" in page and "pc.one" in page
    record_id = _create(
        sarge,
        owner_id=str(user_id(app, "pc.one")),
        meeting_id=meeting,
        concern_record_ids=raised,
        public="yes",
    )
    row = record_row(app, record_id)
    assert (row.kind, row.team_id, row.data["priority_status"]) == ("local_priority", 1, "open")
    assert row.data["concern_record_ids"] == [raised]
    assert row.data["owner_id"] == user_id(app, "pc.one") and row.public
    # A phone of the team pulls it, and the list shows it with its concern.
    pulled = {c["id"]: c for c in officer.pull().get_json()["changes"]}
    assert pulled[record_id]["data"]["title"] == "Speeding on Mill Lane at school times"
    listing = sarge.text(f"/console/priorities/{TEAM}")
    assert "Speeding on Mill Lane" in listing and "Open" in listing
    assert [e.action for e in access_log(app, "priority_create")] == ["priority_create"]


def test_an_edit_is_a_change_in_the_history_and_phones_get_it(app, console, officer):
    sarge = console("supervisor")
    record_id = _create(sarge)
    url = f"/console/priorities/{TEAM}/{record_id}"
    form = sarge.text(url)
    was = html.unescape(form.split('name="was" value="', 1)[1].split('"', 1)[0])
    response = sarge.post(
        url,
        _form(
            priority_status="resolved",
            closed_on="2026-11-30",
            was=was,
            base_rev="1",
        ),
    )
    assert response.status_code == 302
    row = record_row(app, record_id)
    assert (row.rev, row.data["priority_status"], row.data["closed_on"]) == (
        2,
        "resolved",
        "2026-11-30",
    )
    with app.app_context():
        ops = db.session.scalars(sa.select(Change.status).where(Change.record_id == record_id))
        assert list(ops) == ["applied", "applied"]
    pulled = {c["id"]: c for c in officer.pull().get_json()["changes"]}
    assert pulled[record_id]["data"]["priority_status"] == "resolved"


def test_a_console_edit_against_a_phones_edit_of_the_same_field_is_a_conflict(
    app, console, make_user, new_device
):
    sarge_name = make_user("supervisor", TEAM)
    from console_helpers import Console

    sarge = Console(app, sarge_name)
    # A phone edits only its officer's records: the race is over a priority an officer set.
    officer = new_device(make_user("officer", TEAM))
    phone_priority = push_record(
        officer, kind="local_priority", standards=[], title="Parking at the school", summary="x"
    )
    assert edit_record(officer, phone_priority, 1, title="Parking on Elm Road")["status"] in (
        "applied",
        "merged",
    )
    url = f"/console/priorities/{TEAM}/{phone_priority}"
    was = {"title": "Parking at the school"}
    response = sarge.post(
        url,
        {
            **_form(title="Parking outside St Mary's", set_on=_set_day(app, phone_priority)),
            "was": json.dumps(was),
            "base_rev": "1",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        fields = list(
            db.session.scalars(
                sa.select(Conflict.field).where(Conflict.record_id == phone_priority)
            )
        )
    assert "title" in fields


def _set_day(app, record_id: str) -> str:
    from server.console.priorities import _local_day

    with app.app_context():
        return _local_day(db.session.get(Record, record_id).data["occurred_at"])


def test_bad_input_is_said_plainly_and_nothing_is_written(app, console, other_officer):
    elsewhere = push_record(other_officer, concerns=[{"category": "noise"}])
    stranger = user_id(app, "pc.two")
    sarge = console("supervisor")
    cases = [
        ({"title": ""}, "A local priority needs a title."),
        ({"title": "x" * 10_000}, "Too long: at most 200 characters."),
        ({"priority_status": "closed", "closed_on": "2026-11-01"}, "Say why the priority"),
        ({"owner_id": str(stranger)}, "not an officer of this team"),
        ({"owner_id": "seven"}, "Choose the owner from the list."),
        ({"concern_record_ids": elsewhere}, "not this team's records of concerns"),
        ({"set_on": "yesterday"}, "Give the day the priority was set"),
        ({"review_by": "2026-02-30"}, "Is not a date in the calendar."),
    ]
    for fields, message in cases:
        response = sarge.post(NEW, _form(**fields))
        assert response.status_code == 400, fields
        assert message in html.unescape(response.get_data(as_text=True)), fields
    assert _priorities(app) == []


def test_only_the_teams_supervisors_and_admins_may_set_priorities(app, console):
    # Officers cannot sign in to the console at all; their phones cannot write a team's
    # priority for them either (a record is its officer's: tests/server/test_sync_write_rules).
    console("supervisor")  # makes the team
    for role, team in (("panel", None), ("supervisor", OTHER)):
        response = console(role, team).post(NEW, _form())
        assert response.status_code == 403, role
        assert "only its supervisors" in response.get_data(as_text=True) or role == "panel"
    assert _priorities(app) == []
    assert console("admin", None).post(NEW, _form()).status_code == 302


def test_the_form_refuses_a_post_without_its_token(app, console):
    sarge = console("supervisor")
    response = sarge.client.post(NEW, data=_form())
    assert response.status_code in (400, 403)
    assert _priorities(app) == []


def test_the_record_page_reads_concerns_and_links_out(app, console, officer):
    priority = push_record(
        officer, kind="local_priority", standards=[], title="Speeding", summary="Set at PACT"
    )
    action = push_record(
        officer,
        priority_id=priority,
        concerns=[{"category": "speeding", "phrase": "after school"}],
    )
    page = html.unescape(console("supervisor").text(f"/console/records/{action}"))
    assert "Speeding: “after school”" in page
    assert f'href="/console/records/{priority}"' in page
