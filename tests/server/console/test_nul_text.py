"""NUL (U+0000) is text no PostgreSQL column can hold: it is refused as bad input with a precise
400 (or, inside a push, a rejection of its one change) on both databases, never a 500."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from console_helpers import TEAM, Console, push_record
from helpers import PASSWORD, create_change

from server.db import db
from server.db.models import Change, Device, Record


def test_a_nul_in_a_record_rejects_only_its_change(app, client, device):
    bad, good = create_change(device, summary="Spoke\x00 with staff"), create_change(device)
    response = device.push([bad, good])
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["rejected", "applied"]
    assert "NUL" in results[0]["errors"]["summary"][0]
    with app.app_context():
        assert db.session.get(Record, bad["id"]) is None
        statuses = db.session.scalars(sa.select(Change.status).order_by(Change.id)).all()
        assert statuses == ["rejected", "applied"]


def test_a_nul_in_the_envelope_is_rejected_and_logged(app, client, device):
    change = create_change(device)
    change["hlc"] = change["hlc"] + "\x00"
    response = device.push([change])
    assert response.status_code == 200
    assert response.get_json()["results"][0]["status"] == "rejected"


def test_a_nul_in_the_batch_id_is_a_validation_error(client, device):
    response = device.push([], batch_id="b\x00")
    assert response.status_code == 400
    assert "batch_id" in response.get_json()["error"]["fields"]


def test_a_nul_in_a_device_rename_is_a_validation_error(app, client, device):
    response = client.patch(
        "/api/v1/auth/device",
        data=json.dumps({"device_name": "\x00"}),
        headers={**device.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["fields"] == {
        "device_name": ["Not valid text: it holds a NUL character (U+0000)."]
    }
    with app.app_context():
        assert db.session.get(Device, device.device_id).name != "\x00"


def test_a_nul_in_a_sign_in_is_a_validation_error(client, device):
    body = {"username": "pc\x00", "password": PASSWORD, "device_name": "p"}
    response = client.post("/api/v1/auth/device", json=body)
    assert response.status_code == 400
    assert "username" in response.get_json()["error"]["fields"]


def test_a_nul_in_a_pull_cursor_is_a_400(client, device):
    response = client.get("/api/v1/sync/pull?since=%00", headers=device.headers)
    assert response.status_code == 400
    assert response.get_json()["error"]["fields"] == {
        "since": ["Not valid text: it holds a NUL character (U+0000)."]
    }


@pytest.mark.parametrize(
    "url",
    [
        "/console/records?q=%00",
        "/console/records?officer=%00",
        "/console/records/export.csv?q=a%00b",
        "/console/access-log?action=%00",
        "/console/records/%00",
        "/console/assessment/teams/%00",
        "/teams/%00",
        "/teams/%00.json",
    ],
)
def test_a_nul_in_a_console_url_is_a_400_page(app, make_user, url):
    admin = Console(app, make_user("admin", None))
    response = admin.get(url)
    assert response.status_code in (400, 404), (url, response.status_code)


def test_a_nul_in_a_console_form_is_a_400_and_changes_nothing(app, make_user, device):
    record_id = push_record(device)
    supervisor = Console(app, make_user("supervisor", TEAM))
    response = supervisor.post(
        f"/console/records/{record_id}/review", {"action": "return", "note": "Fix\x00 it"}
    )
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Record, record_id).review_state != "returned"


def test_a_nul_in_the_console_sign_in_is_a_400(app, make_user):
    response = Console(app).sign_in("admin\x00")
    assert response.status_code == 400
