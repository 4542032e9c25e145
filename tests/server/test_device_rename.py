"""A phone renames itself (the app names it after its officer once signed in); a phone a
supervisor signed out is told so."""

from __future__ import annotations

from sqlalchemy import select

from server.db import db
from server.db.models import Device, User, utcnow


def _name(app, device_id: str) -> str:
    with app.app_context():
        return db.session.get(Device, device_id).name


def test_a_signed_in_phone_renames_itself(app, client, device):
    name = "  PC One's phone (Android Chrome) "
    response = client.patch(
        "/api/v1/auth/device", json={"device_name": name}, headers=device.headers
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {
        "device_id": device.device_id,
        "device_name": "PC One's phone (Android Chrome)",
    }
    assert _name(app, device.device_id) == "PC One's phone (Android Chrome)"


def test_rename_refuses_a_blank_or_long_name_and_an_unknown_token(app, client, device):
    bodies = ({"device_name": "   "}, {"device_name": "x" * 81}, {}, {"device_name": "a", "x": 1})
    for body in bodies:
        response = client.patch("/api/v1/auth/device", json=body, headers=device.headers)
        assert response.status_code == 400, body
        assert response.get_json()["error"]["code"] == "validation_failed"
    assert _name(app, device.device_id) == "Test phone"
    response = client.patch(
        "/api/v1/auth/device", json={"device_name": "x"}, headers={"Authorization": "Bearer nope"}
    )
    assert response.status_code == 401


def test_a_revoked_phone_is_told_a_supervisor_signed_it_out(app, client, device, make_user):
    supervisor = make_user("supervisor", "NPT-ONE")
    with app.app_context():
        row = db.session.get(Device, device.device_id)
        row.revoked_at = utcnow()
        row.revoked_by_id = db.session.scalar(select(User.id).where(User.username == supervisor))
        db.session.commit()
    response = device.pull()
    assert response.status_code == 401
    error = response.get_json()["error"]
    assert error["code"] == "token_revoked"
    assert error["message"].startswith("A supervisor signed this phone out.")
