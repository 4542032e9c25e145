"""A push is judged before the writers' lock and confirmed under it (docs/sync-protocol.md,
"Inside and outside the lock"): whatever commits in between, the outcome is the one judging
under the lock would give."""

from __future__ import annotations

import threading

import pytest
from helpers import create_change, push_edit

from server.db import db
from server.db.models import Change, Record
from server.records.redaction import restrict
from server.records.review import review_record
from server.sync.store import SqlStore


@pytest.fixture
def meanwhile(monkeypatch):
    """meanwhile(action): run `action` in another thread (its own session and transaction),
    to its commit, just before the next push takes the writers' lock."""
    pending: list = []
    real_lock = SqlStore.lock

    def lock(self, record_ids=()):
        if pending and self.actor is not None and self.actor.device_id is not None:
            action = pending.pop()
            failed: list[BaseException] = []

            def run():
                try:
                    action()
                except BaseException as exc:  # noqa: BLE001 - raised again below
                    failed.append(exc)

            thread = threading.Thread(target=run)
            thread.start()
            thread.join()
            if failed:
                raise failed[0]
        return real_lock(self, record_ids)

    monkeypatch.setattr(SqlStore, "lock", lock)
    return pending.append


def _edit(device, record_id, **data) -> dict:
    """Push an edit made at rev 1; its result, whatever it is."""
    change = {"id": record_id, "op": "upsert", "hlc": device.stamp(), "base_rev": 1, "data": data}
    return device.push([change]).get_json()["results"][0]


def _in_app(app, action):
    def run():
        with app.app_context():
            action()
            db.session.commit()
            db.session.remove()

    return run


def test_a_record_restricted_meanwhile_refuses_the_edit(app, device, meanwhile):
    change = create_change(device)
    assert device.push([change]).get_json()["results"][0]["status"] == "applied"
    meanwhile(_in_app(app, lambda: restrict(db.session, [change["id"]], by_id=None)))

    result = _edit(device, change["id"], summary="Edited after the restriction.")

    assert result["status"] == "rejected"
    assert "restricted" in result["errors"]["_record"][0]
    with app.app_context():
        record = db.session.get(Record, change["id"])
        assert record.data["summary"] != "Edited after the restriction."


def test_an_edit_committed_meanwhile_is_merged_not_overwritten(app, device, new_device, meanwhile):
    change = create_change(device)
    device.push([change])
    other = new_device(device.user["username"], "Second phone")
    meanwhile(lambda: push_edit(other, change["id"], 1, place="Market Square"))

    result = _edit(device, change["id"], summary="Edited on the first phone.")

    assert (result["status"], result["rev"]) == ("merged", 3)  # on the other phone's rev 2
    with app.app_context():
        record = db.session.get(Record, change["id"])
        assert record.data["place"] == "Market Square"
        assert record.data["summary"] == "Edited on the first phone."
        assert record.rev == 3


def test_a_review_meanwhile_is_sent_back_by_the_phones_edit(app, device, make_user, meanwhile):
    from server.db.models import User

    change = create_change(device)
    device.push([change])
    supervisor = make_user("supervisor", "NPT-ONE")

    def approve():
        user = db.session.scalar(db.select(User).where(User.username == supervisor))
        review_record(user, change["id"], "approved")

    meanwhile(_in_app(app, approve))
    push_edit(device, change["id"], 1, summary="Edited while a supervisor approved it.")

    with app.app_context():
        record = db.session.get(Record, change["id"])
        assert record.review_state == "pending"
        assert record.rev == 2


def test_the_same_change_pushed_meanwhile_in_another_batch_is_a_duplicate(app, device, meanwhile):
    change = create_change(device)
    meanwhile(lambda: device.push([change]))

    result = device.push([change]).get_json()["results"][0]

    assert result["status"] == "duplicate"
    with app.app_context():
        logged = db.session.scalars(
            db.select(Change.status).where(Change.record_id == change["id"])
        ).all()
        assert sorted(logged) == ["applied"]
