"""Who may write a record through push, and which device a change is taken from (issue 11)."""

from __future__ import annotations

from helpers import create_change

from server.db import db
from server.db.models import Change, Record


def _record(app, record_id):
    with app.app_context():
        return db.session.get(Record, record_id)


def _edit(device, record_id, **data):
    return {"id": record_id, "op": "upsert", "hlc": device.stamp(), "base_rev": 1, "data": data}


def test_an_officer_cannot_rewrite_a_teammates_record(app, make_user, new_device):
    mine = new_device(make_user("officer", "NPT-ONE"))
    teammate = new_device(make_user("officer", "NPT-ONE"))
    change = create_change(mine)
    mine.push([change])
    result = teammate.push([_edit(teammate, change["id"], summary="Rewritten")]).get_json()
    assert result["results"][0]["status"] == "rejected"
    assert "Only the officer who made this record" in result["results"][0]["errors"]["_record"][0]
    assert _record(app, change["id"]).summary != "Rewritten"


def test_an_officer_cannot_delete_a_teammates_record(app, make_user, new_device):
    mine = new_device(make_user("officer", "NPT-ONE"))
    teammate = new_device(make_user("officer", "NPT-ONE"))
    change = create_change(mine)
    mine.push([change])
    delete = {
        "id": change["id"],
        "op": "delete",
        "hlc": teammate.stamp(),
        "base_rev": 1,
        "data": {},
    }
    assert teammate.push([delete]).get_json()["results"][0]["status"] == "rejected"
    assert not _record(app, change["id"]).deleted


def test_a_supervisor_cannot_write_a_teams_record_from_a_phone(app, make_user, new_device):
    officer = new_device(make_user("officer", "NPT-ONE"))
    sergeant = new_device(make_user("supervisor", "NPT-ONE"))
    change = create_change(officer)
    officer.push([change])
    result = sergeant.push([_edit(sergeant, change["id"], summary="Sarge")]).get_json()
    assert result["results"][0]["status"] == "rejected"
    assert _record(app, change["id"]).summary != "Sarge"


def test_an_officer_still_edits_their_own_record_from_another_phone(app, make_user, new_device):
    username = make_user("officer", "NPT-ONE")
    first, second = new_device(username, "Phone A"), new_device(username, "Phone B")
    change = create_change(first)
    first.push([change])
    result = second.push([_edit(second, change["id"], summary="From phone B")]).get_json()
    assert result["results"][0]["status"] == "applied"


def test_a_moved_officer_keeps_their_own_records_and_nothing_of_the_old_team(
    app, make_user, new_device, make_team
):
    from server.db.models import Team, User

    mover_name = make_user("officer", "NPT-ONE")
    mover, stayer = new_device(mover_name), new_device(make_user("officer", "NPT-ONE"))
    own, theirs = create_change(mover), create_change(stayer)
    mover.push([own])
    stayer.push([theirs])
    make_team("NPT-TWO", "Two")
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == mover_name))
        user.team_id = db.session.scalar(db.select(Team.id).where(Team.code == "NPT-TWO"))
        db.session.commit()
    results = mover.push(
        [
            _edit(mover, own["id"], summary="Still mine"),
            _edit(mover, theirs["id"], summary="Not mine"),
        ]
    ).get_json()["results"]
    assert [r["status"] for r in results] == ["applied", "rejected"]


def test_the_records_device_is_the_signed_in_device_not_the_stamps(app, make_user, new_device):
    victim = new_device(make_user("officer", "NPT-ONE"))
    forger = new_device(make_user("officer", "NPT-ONE"))
    change = create_change(forger)
    change["hlc"] = change["hlc"].rsplit("-", 1)[0] + "-" + victim.device_id  # a teammate's id
    result = forger.push([change]).get_json()["results"][0]
    assert result["status"] == "rejected"
    assert "another device" in result["errors"]["_record"][0]
    assert _record(app, change["id"]) is None


def test_a_stamp_of_an_unknown_node_is_rejected_and_the_rest_applies(app, device):
    bad, good = create_change(device), create_change(device)
    bad["hlc"] = bad["hlc"].rsplit("-", 1)[0] + "-" + "ab" * 16
    results = device.push([bad, good]).get_json()["results"]
    assert [r["status"] for r in results] == ["rejected", "applied"]
    record = _record(app, good["id"])
    assert record.device_id == device.device_id
    with app.app_context():
        assert (
            db.session.scalar(db.select(Change.device_id).where(Change.record_id == good["id"]))
            == device.device_id
        )


def test_a_queue_stamped_before_signing_in_again_still_syncs(app, make_user, new_device):
    username = make_user("officer", "NPT-ONE")
    old = new_device(username, "Phone")
    queued = create_change(old)  # stamped with the old device id, never sent
    again = new_device(username, "Phone")
    result = again.push([queued]).get_json()["results"][0]
    assert result["status"] == "applied"
    assert _record(app, queued["id"]).device_id == again.device_id
