"""The key that opens a phone's encrypted queue: the same for an officer on one phone at every
sign-in (so a fresh sign-in reopens the queue after too many wrong PINs), different per officer
and per phone, only for a signed-in device, and logged."""

from __future__ import annotations

import base64

from sqlalchemy import select

from server.db import db
from server.db.models import AccessLog

URL = "/api/v1/auth/device/queue-key"
INSTALL = "3f2c7a9e-1b4d-4c8e-9a61-0d5e2b7f8c13"


def _key(client, device, install=INSTALL):
    response = client.post(URL, json={"install_id": install}, headers=device.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["key"]


def test_the_key_is_stable_per_officer_and_phone(client, make_user, new_device):
    one, two = make_user("officer"), make_user("officer")
    first = _key(client, new_device(one))
    assert len(base64.urlsafe_b64decode(first + "=")) == 32
    assert _key(client, new_device(one, "same phone, signed in again")) == first
    assert _key(client, new_device(two)) != first, "another officer's key differs"
    assert _key(client, new_device(one), install="another-phone-0001") != first


def test_only_a_signed_in_device_gets_it_and_bad_bodies_are_refused(app, client, device):
    assert client.post(URL, json={"install_id": INSTALL}).status_code == 401
    revoked = client.post(URL, json={"install_id": INSTALL}, headers={"Authorization": "Bearer x"})
    assert revoked.status_code == 401
    for body in (
        {},
        {"install_id": "short"},
        {"install_id": "x" * 65},
        {"install_id": "a b c d e f"},
        {"install_id": INSTALL, "more": 1},
    ):
        response = client.post(URL, json=body, headers=device.headers)
        assert response.status_code == 400, body
        assert response.get_json()["error"]["code"] == "validation_failed"
    client.delete("/api/v1/auth/device", headers=device.headers)
    assert client.post(URL, json={"install_id": INSTALL}, headers=device.headers).status_code == 401


def test_handing_out_the_key_is_logged(app, client, device):
    _key(client, device)
    with app.app_context():
        rows = db.session.scalars(
            select(AccessLog).where(AccessLog.action == "device_queue_key")
        ).all()
        assert [(r.device_id, r.detail) for r in rows] == [
            (device.device_id, {"install_id": INSTALL})
        ]
