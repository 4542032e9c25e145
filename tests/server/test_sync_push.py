"""Push semantics over HTTP: idempotence, per-record outcomes, merge, clocks, the change log."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from helpers import create_change, record_data

from server.db import db
from server.db.models import Change, Conflict, Device, Record, RecordGroup, RecordStandard
from server.records import codes as record_codes


def _record(app, record_id):
    with app.app_context():
        return db.session.get(Record, record_id)


def test_create_sets_officer_team_and_defaults(app, device):
    change = create_change(device, standards=[])
    response = device.push([change])
    assert response.status_code == 200
    result = response.get_json()["results"][0]
    assert result == {"id": change["id"], "hlc": change["hlc"], "status": "applied", "rev": 1}
    with app.app_context():
        record = db.session.get(Record, change["id"])
        assert record.officer.username == device.user["username"]
        assert record.team.code == "NPT-ONE"
        assert record.data["standards"] == ["F2F"]  # defaulted from the kind
        # The code rows are a catch-up index: a reader brings them up to date first.
        assert db.session.scalars(sa.select(RecordStandard.code)).all() == []
        assert record_codes.catch_up() == 1
        codes = db.session.scalars(sa.select(RecordStandard.code)).all()
        assert codes == ["F2F"]
        assert db.session.scalars(sa.select(RecordGroup.code)).all() == ["young_people"]


def test_officer_and_team_are_never_taken_from_the_payload(device):
    change = create_change(device)
    change["data"]["officer"] = "someone-else"
    result = device.push([change]).get_json()["results"][0]
    assert result["status"] == "rejected"
    assert result["errors"] == {"officer": ["Unknown field."]}


def test_replayed_batch_returns_the_same_answer_and_changes_nothing(app, device):
    changes = [create_change(device) for _ in range(3)]
    first = device.push(changes, batch_id="batch-1").get_json()
    again = device.push(changes, batch_id="batch-1").get_json()
    assert again == first
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Change)) == 3


def test_change_resent_in_another_batch_is_a_duplicate(app, device):
    change = create_change(device)
    device.push([change])
    result = device.push([change]).get_json()["results"][0]
    assert result["status"] == "duplicate"
    assert result["rev"] == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Change)) == 1


def test_one_invalid_record_is_rejected_and_the_rest_apply(app, device):
    good, bad = create_change(device), create_change(device, summary="x" * 5000, kind="juggling")
    results = device.push([good, bad]).get_json()["results"]
    assert [r["status"] for r in results] == ["applied", "rejected"]
    assert set(results[1]["errors"]) == {"summary", "kind"}
    assert _record(app, bad["id"]) is None
    with app.app_context():
        logged = db.session.scalars(sa.select(Change.status).order_by(Change.id)).all()
        assert logged == ["applied", "rejected"]  # the failure is kept in the change log


def test_create_without_required_fields_is_rejected(device):
    change = create_change(device)
    del change["data"]["summary"]
    result = device.push([change]).get_json()["results"][0]
    assert result["status"] == "rejected"
    assert result["errors"] == {"summary": ["Missing data for required field."]}


def test_future_dates_are_rejected(device):
    future = (datetime.now(timezone.utc) + timedelta(days=3)).isoformat()
    result = device.push([create_change(device, occurred_at=future)]).get_json()["results"][0]
    assert result["status"] == "rejected"
    assert "future" in result["errors"]["occurred_at"][0]


def test_edits_of_different_fields_from_two_devices_both_survive(app, make_user, new_device):
    username = make_user("officer", "NPT-ONE")
    phone_a, phone_b = new_device(username, "A"), new_device(username, "B")
    change = create_change(phone_a)
    phone_a.push([change])
    edit_a = {
        "id": change["id"],
        "op": "upsert",
        "hlc": phone_a.stamp(),
        "base_rev": 1,
        "data": {"summary": "Edited on A"},
    }
    edit_b = {
        "id": change["id"],
        "op": "upsert",
        "hlc": phone_b.stamp(),
        "base_rev": 1,
        "data": {"people_count": 9},
    }
    assert phone_a.push([edit_a]).get_json()["results"][0]["status"] == "applied"
    assert phone_b.push([edit_b]).get_json()["results"][0]["status"] == "merged"
    record = _record(app, change["id"])
    assert (record.summary, record.people_count, record.rev) == ("Edited on A", 9, 3)


def _concurrent_summary_edits(make_user, new_device, order):
    username = make_user("officer", "NPT-ONE", username=f"pc-{uuid.uuid4().hex[:6]}")
    phone_a, phone_b = new_device(username, "A"), new_device(username, "B")
    # Stamps in the past: the server caps a stamp at its own clock, and two edits capped to the
    # same millisecond would be ordered by their counters, not by the 5 ms between them.
    base = int(time.time() * 1000) - 30_000
    change = create_change(phone_a)
    change["hlc"] = phone_a.stamp(base - 30_000)
    phone_a.push([change])
    edits = {
        "a": (
            phone_a,
            {
                "id": change["id"],
                "op": "upsert",
                "hlc": phone_a.stamp(base),
                "base_rev": 1,
                "data": {"summary": "From A"},
            },
        ),
        "b": (
            phone_b,
            {
                "id": change["id"],
                "op": "upsert",
                "hlc": phone_b.stamp(base + 5),
                "base_rev": 1,
                "data": {"summary": "From B"},
            },
        ),
    }
    statuses = [edits[k][0].push([edits[k][1]]).get_json()["results"][0]["status"] for k in order]
    return change["id"], statuses


def test_same_field_conflict_has_the_same_winner_in_either_order(app, make_user, new_device):
    first_id, statuses_ab = _concurrent_summary_edits(make_user, new_device, "ab")
    second_id, statuses_ba = _concurrent_summary_edits(make_user, new_device, "ba")
    assert statuses_ab == ["applied", "conflict"] and statuses_ba == ["applied", "conflict"]
    with app.app_context():
        for record_id in (first_id, second_id):
            record = db.session.get(Record, record_id)
            assert record.summary == "From B"  # the later clock wins whatever the order
            assert record.open_conflicts == 1
            conflict = db.session.scalar(sa.select(Conflict).where(Conflict.record_id == record_id))
            assert conflict.field == "summary"
            assert conflict.winner["value"] == "From B"
            assert conflict.loser["value"] == "From A"  # the losing value is kept


def test_a_fast_clock_does_not_win_every_conflict(app, make_user, new_device):
    username = make_user("officer", "NPT-ONE")
    honest, fast = new_device(username, "honest"), new_device(username, "fast")
    change = create_change(honest)
    honest.push([change])
    hours = 5 * 3600 * 1000
    now = int(time.time() * 1000)
    # The fast phone edits first (its clock says 5 hours ahead), the honest phone a moment later.
    fast_edit = {
        "id": change["id"],
        "op": "upsert",
        "hlc": fast.stamp(now + hours),
        "base_rev": 1,
        "data": {"summary": "From the fast phone"},
    }
    fast_now = (datetime.now(timezone.utc) + timedelta(milliseconds=hours)).isoformat()
    assert fast.push([fast_edit], device_now=fast_now).status_code == 200
    time.sleep(0.01)
    honest_edit = {
        "id": change["id"],
        "op": "upsert",
        "hlc": honest.stamp(),
        "base_rev": 1,
        "data": {"summary": "From the honest phone"},
    }
    assert honest.push([honest_edit]).get_json()["results"][0]["status"] == "conflict"
    assert _record(app, change["id"]).summary == "From the honest phone"
    with app.app_context():
        skew = db.session.get(Device, fast.device_id).clock_skew_ms
        assert abs(skew - hours) < 60_000
        logged = db.session.scalar(sa.select(Change).where(Change.hlc == fast_edit["hlc"]))
        assert logged.hlc == fast_edit["hlc"]  # the original stamp is kept
        assert logged.effective_hlc < fast_edit["hlc"]


def test_delete_is_a_tombstone_and_concurrent_edit_is_a_conflict(app, make_user, new_device):
    username = make_user("officer", "NPT-ONE")
    phone_a, phone_b = new_device(username, "A"), new_device(username, "B")
    change = create_change(phone_a)
    phone_a.push([change])
    delete = {"id": change["id"], "op": "delete", "hlc": phone_a.stamp(), "base_rev": 1, "data": {}}
    edit = {
        "id": change["id"],
        "op": "upsert",
        "hlc": phone_b.stamp(),
        "base_rev": 1,
        "data": {"summary": "Edited while A deleted it"},
    }
    assert phone_a.push([delete]).get_json()["results"][0]["status"] == "applied"
    assert phone_b.push([edit]).get_json()["results"][0]["status"] == "conflict"
    record = _record(app, change["id"])
    assert record.deleted and record.summary == "Edited while A deleted it"
    with app.app_context():
        conflict = db.session.scalar(sa.select(Conflict))
        assert conflict.field == "_deleted"


def test_upsert_after_seeing_the_delete_restores_the_record(app, device):
    change = create_change(device)
    device.push([change])
    device.push(
        [{"id": change["id"], "op": "delete", "hlc": device.stamp(), "base_rev": 1, "data": {}}]
    )
    restore = {
        "id": change["id"],
        "op": "upsert",
        "hlc": device.stamp(),
        "base_rev": 2,
        "data": {"summary": "Restored"},
    }
    assert device.push([restore]).get_json()["results"][0]["status"] == "applied"
    record = _record(app, change["id"])
    assert not record.deleted and record.summary == "Restored" and record.rev == 3


def test_another_teams_record_is_rejected(app, make_user, new_device):
    mine = new_device(make_user("officer", "NPT-ONE"))
    theirs = new_device(make_user("officer", "NPT-TWO"))
    change = create_change(mine)
    mine.push([change])
    edit = {
        "id": change["id"],
        "op": "upsert",
        "hlc": theirs.stamp(),
        "base_rev": 1,
        "data": {"summary": "Not mine to change"},
    }
    result = theirs.push([edit]).get_json()["results"][0]
    assert result["status"] == "rejected"
    assert result["errors"] == {"_record": ["This record belongs to another team."]}
    assert _record(app, change["id"]).summary != "Not mine to change"


def test_change_log_keeps_who_when_and_every_revision(app, device):
    change = create_change(device)
    device.push([change])
    device.push(
        [
            {
                "id": change["id"],
                "op": "upsert",
                "hlc": device.stamp(),
                "base_rev": 1,
                "data": {"follow_up": "Revisit Friday"},
            }
        ]
    )
    with app.app_context():
        rows = db.session.scalars(sa.select(Change).order_by(Change.id)).all()
        assert [(r.rev, r.data["fields"]) for r in rows][1] == (2, ["follow_up"])
        for row in rows:
            assert row.device_id == device.device_id
            assert row.user.username == device.user["username"]
            assert row.device_time and row.received_at and row.occurred_at


def test_v1_records_from_an_old_app_are_upgraded(app, device):
    change = create_change(device)
    data = change["data"]
    data["schema_version"] = 1
    data["people"] = data.pop("people_count")
    del data["follow_up"]
    data["notes"] = "Old app follow-up"
    assert device.push([change]).get_json()["results"][0]["status"] == "applied"
    record = _record(app, change["id"])
    assert (record.people_count, record.follow_up) == (3, "Old app follow-up")
    assert record.data["schema_version"] == 2


def test_device_telemetry_is_stored(app, device):
    device.push([create_change(device)], pending=7, app_version="1.2.3")
    with app.app_context():
        stored = db.session.get(Device, device.device_id)
        assert (stored.pending, stored.app_version) == (7, "1.2.3")
        assert stored.last_sync_at is not None


def test_response_carries_server_clock(device):
    body = device.push([]).get_json()
    assert body["results"] == []
    assert datetime.fromisoformat(body["server_time"]).tzinfo is not None
    assert body["server_hlc"].endswith("-server")


def test_record_data_helper_is_valid():
    assert json.dumps(record_data())
