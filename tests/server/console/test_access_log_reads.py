"""Every consultation and disclosure of personal data is in the access log (issue 11 item 3)."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from console_helpers import access_log, make_conflict, push_record, user_id
from helpers import DeviceClient

from server.db import db
from server.db.models import ConsoleSession


def _only(app, action):
    rows = access_log(app, action)
    assert len(rows) == 1, [r.action for r in access_log(app)]
    return rows[0]


def test_a_pull_logs_who_which_device_and_which_records(app, officer):
    ids = [push_record(officer) for _ in range(2)]
    body = officer.pull().get_json()
    entry = _only(app, "pull")
    assert entry.user_id == user_id(app, "pc.one") and entry.device_id == officer.device_id
    assert entry.detail["ids"] == ids and entry.detail["count"] == 2
    assert entry.detail["cursor"] == body["cursor"] and entry.detail["since"] == ""


def test_a_large_pull_logs_a_count_and_a_digest(app, officer, monkeypatch):
    import server.db.access_log as module

    monkeypatch.setattr(module, "LIST_IDS_UP_TO", 2)
    ids = [push_record(officer) for _ in range(3)]
    officer.pull()
    detail = _only(app, "pull").detail
    assert "ids" not in detail and detail["count"] == 3
    assert detail["digest"] == hashlib.sha256("\n".join(ids).encode()).hexdigest()[:32]
    assert (detail["first"], detail["last"]) == (ids[0], ids[-1])


def test_an_empty_pull_is_logged_too(app, officer):
    officer.pull()
    assert _only(app, "pull").detail["count"] == 0


def test_device_sign_in_and_sign_out_are_logged(app, client, officer):
    client.delete("/api/v1/auth/device", headers=officer.headers)
    sign_in, sign_out = _only(app, "device_sign_in"), _only(app, "device_sign_out")
    assert sign_in.device_id == sign_out.device_id == officer.device_id
    assert sign_in.user_id == user_id(app, "pc.one")


def test_record_searches_and_filters_log_the_words_and_the_records_shown(app, console, officer):
    record_id = push_record(officer, summary="Fly-tipping behind the garages")
    sergeant = console("supervisor")
    sergeant.text("/console/records?q=garages&kind=face_to_face")
    entry = _only(app, "search_records")
    assert entry.detail["filters"] == {"q": "garages", "kind": "face_to_face"}
    assert entry.detail["ids"] == [record_id]
    sergeant.text("/console/records")
    assert _only(app, "list_records").detail["ids"] == [record_id]


def test_console_entries_name_the_session(app, console, officer):
    sergeant = console("supervisor")
    sergeant.text("/console/records")
    with app.app_context():
        sessions = db.session.scalars(sa.select(ConsoleSession.id_hash)).all()
    assert _only(app, "list_records").session_id in sessions


def test_the_conflicts_people_activity_and_access_log_pages_are_logged(
    app, client, console, officer
):
    record_id, conflict_id = make_conflict(app, officer, DeviceClient(client, "pc.one", "Two"))
    sergeant = console("supervisor")
    sergeant.text("/console/conflicts")
    assert _only(app, "view_conflicts").detail["conflicts"] == [conflict_id]
    assert _only(app, "view_conflicts").detail["ids"] == [record_id]
    sergeant.text("/console/teams")
    assert user_id(app, "pc.one") in _only(app, "view_people").detail["people"]
    sergeant.text(f"/console/people/{user_id(app, 'pc.one')}")
    person = _only(app, "view_person")
    assert person.target_id == str(user_id(app, "pc.one"))
    assert officer.device_id in person.detail["devices"]
    sergeant.text("/console/activity")
    assert _only(app, "view_activity").detail["days"] == app.config["QUIET_DAYS"]
    admin = console("admin", None)
    admin.text("/console/access-log?action=view_person")
    viewed = _only(app, "view_access_log")
    assert viewed.detail["filters"] == {"action": "view_person"} and viewed.detail["count"] == 1


def test_a_csv_export_logs_how_many_records_left(app, console, officer):
    ids = [push_record(officer) for _ in range(3)]
    sergeant = console("supervisor")
    response = sergeant.get("/console/records/export.csv")
    assert len(response.get_data(as_text=True).splitlines()) == 4
    done = _only(app, "export_finished")
    assert done.detail["count"] == 3 and done.detail["complete"] is True
    assert set(done.detail["ids"]) == set(ids)
    assert done.user_id == user_id(app, sergeant.username)
