"""Bad input gets a precise JSON error with the right status, and writes nothing."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from helpers import PASSWORD, DeviceClient, create_change

from server.clock import utcnow
from server.db import db
from server.db.create import init_db
from server.db.models import Change, Device, Record
from server.db.writers import high_water, set_high_water


def _error(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def _nothing_written(app):
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Record)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Change)) == 0


def test_malformed_json(client, device, app):
    response = client.post(
        "/api/v1/sync/push",
        data="{not json",
        headers={**device.headers, "Content-Type": "application/json"},
    )
    _error(response, 400, "malformed_json")
    _nothing_written(app)


def test_not_json_content_type(client, device):
    response = client.post("/api/v1/sync/push", data="x=1", headers=device.headers)
    _error(response, 415, "unsupported_media_type")


def test_wrong_types_in_the_envelope(client, device):
    response = client.post(
        "/api/v1/sync/push",
        json={"device_id": device.device_id, "batch_id": 5, "changes": "no"},
        headers=device.headers,
    )
    error = _error(response, 400, "validation_failed")
    assert set(error["fields"]) == {"batch_id", "changes", "device_now"}


def test_body_that_is_not_an_object(client, device):
    response = client.post("/api/v1/sync/push", json=[1, 2], headers=device.headers)
    _error(response, 400, "validation_failed")


def test_too_many_changes_is_refused_whole(app, device):
    changes = [create_change(device) for _ in range(501)]
    error = _error(device.push(changes), 413, "batch_too_large")
    assert "500" in error["message"]
    _nothing_written(app)


def test_oversized_body_is_refused_whole(app, device):
    change = create_change(device, summary="x" * 3000)
    error = _error(device.push([change] * 1500), 413, "body_too_large")
    assert "bytes" in error["message"]
    _nothing_written(app)


def test_missing_token(client):
    _error(client.get("/api/v1/sync/pull"), 401, "unauthenticated")


def test_unknown_token(client):
    response = client.get("/api/v1/sync/pull", headers={"Authorization": "Bearer nope"})
    _error(response, 401, "unauthenticated")


def test_revoked_token_keeps_nothing_and_says_sign_in(app, device):
    with app.app_context():
        db.session.get(Device, device.device_id).revoked_at = utcnow()
        db.session.commit()
    error = _error(device.push([create_change(device)]), 401, "token_revoked")
    assert "Sign in" in error["message"]
    _nothing_written(app)


def test_device_id_of_another_device(app, device):
    response = device.client.post(
        "/api/v1/sync/push",
        json={
            "device_id": "0" * 32,
            "batch_id": "b",
            "device_now": "2026-01-01T00:00:00+00:00",
            "changes": [],
        },
        headers=device.headers,
    )
    _error(response, 409, "device_mismatch")


def test_clock_a_year_out_is_refused(device):
    _error(device.push([], device_now="1970-01-01T00:00:00+00:00"), 422, "clock_drift")


def test_bad_cursor(device):
    _error(device.pull(since="abc"), 400, "bad_cursor")


def test_pull_limit_out_of_range(device):
    error = _error(device.pull(limit=5000), 400, "validation_failed")
    assert "limit" in error["fields"]


def test_unknown_api_path_is_json(client):
    _error(client.get("/api/v1/nothing-here"), 404, "not_found")


def test_wrong_method_is_json(client):
    _error(client.get("/api/v1/sync/push"), 405, "method_not_allowed")


@pytest.mark.parametrize(
    "change",
    [
        "not an object",
        {"id": "not-a-uuid", "op": "upsert", "hlc": "x", "base_rev": None, "data": {}},
        {
            "id": "8b1f0c5e-6f3a-4c1b-9d2e-1a2b3c4d5e6f",
            "op": "explode",
            "hlc": "x",
            "base_rev": None,
        },
    ],
)
def test_malformed_changes_are_rejected_one_by_one(app, device, change):
    good = create_change(device)
    results = device.push([change, good]).get_json()["results"]
    assert results[0]["status"] == "rejected" and results[0]["errors"]
    assert results[1]["status"] == "applied"


def test_sign_in_wrong_password(client, make_user):
    username = make_user("officer")
    response = client.post(
        "/api/v1/auth/device",
        json={"username": username, "password": "wrong", "device_name": "phone"},
    )
    _error(response, 401, "bad_credentials")


def test_sign_in_missing_fields(client):
    error = _error(
        client.post("/api/v1/auth/device", json={"username": "a"}), 400, "validation_failed"
    )
    assert set(error["fields"]) == {"password", "device_name"}


def test_failed_sign_ins_are_rate_limited_per_account(client, make_user):
    username = make_user("officer")
    for _ in range(10):
        client.post(
            "/api/v1/auth/device",
            json={"username": username, "password": "wrong", "device_name": "phone"},
        )
    response = client.post(
        "/api/v1/auth/device",
        json={"username": username, "password": PASSWORD, "device_name": "phone"},
    )
    _error(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) > 0


def test_many_successful_sign_ins_are_never_limited(client, make_user):
    username = make_user("officer")
    for n in range(15):
        response = client.post(
            "/api/v1/auth/device",
            json={"username": username, "password": PASSWORD, "device_name": f"phone {n}"},
        )
        assert response.status_code == 201


def test_panel_cannot_sign_in_a_device(client, make_user):
    username = make_user("panel", None)
    response = client.post(
        "/api/v1/auth/device",
        json={"username": username, "password": PASSWORD, "device_name": "phone"},
    )
    _error(response, 403, "forbidden")


def test_sign_out_revokes_the_token(client, device):
    assert client.delete("/api/v1/auth/device", headers=device.headers).status_code == 204
    _error(device.pull(), 401, "token_revoked")


def test_json_null_body_is_not_an_object(client, device):
    response = client.post(
        "/api/v1/sync/push",
        data="null",
        headers={**device.headers, "Content-Type": "application/json"},
    )
    error = _error(response, 400, "validation_failed")
    assert "object" in error["message"]


def test_oversized_chunked_body_is_413_not_malformed(app, client, device):
    body = b'{"device_id": "' + device.device_id.encode() + b'", "changes": ["'
    body += b"x" * (5 * 1024 * 1024) + b'"]}'
    response = client.post(
        "/api/v1/sync/push",
        input_stream=io.BytesIO(body),
        headers={
            **device.headers,
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
        },
        environ_overrides={"wsgi.input_terminated": True},
    )  # what gunicorn sets for chunked
    _error(response, 413, "body_too_large")
    _nothing_written(app)


@pytest.mark.parametrize(
    "since", ["9223372036854775808", "99999999999999999999999", "500", "\u00b9", "\u0661\u0662"]
)  # superscript one, Arabic-Indic 12
def test_cursor_the_server_never_gave_is_bad_cursor(device, since):
    _error(device.pull(since=since), 400, "bad_cursor")


def test_a_database_made_afresh_gives_no_cursor_an_old_one_did(app, client, make_user):
    """PostgreSQL keeps a sequence through dropped tables; a new database starts at nought."""
    with app.app_context():
        set_high_water(db.session, 1000)
        db.session.commit()
        db.drop_all()
        init_db()
        assert high_water(db.session) == 0
    device = DeviceClient(client, make_user("officer", "NPT-ONE"))
    _error(device.pull(since="500"), 400, "bad_cursor")


def test_nested_field_errors_are_sentences(device):
    change = create_change(device, standards=[7], location={"lon": 1})
    errors = device.push([change]).get_json()["results"][0]["errors"]
    assert errors["standards"] == ["Item 1: Not a valid string."]
    assert errors["location"] == ["lat: Missing data for required field."]


def test_clock_drift_error_carries_server_time(device):
    error = _error(device.push([], device_now="1970-01-01T00:00:00+00:00"), 422, "clock_drift")
    assert "server_time" in error
