"""Hostile or broken requests answered precisely, in process (the live-server forms are in
test_live_server.py): deep JSON, wrong methods, the OpenAPI document, hot records' conflicts."""

from __future__ import annotations

import json

import pytest
from helpers import create_change

from server.sync.pull import CONFLICTS_PER_FIELD
from tests.faults.conftest import assert_error_shape


@pytest.mark.parametrize("depth", [40, 980, 1500, 100_000])
def test_deeply_nested_json_is_a_precise_400(device, depth):
    change = create_change(device, place="X")
    text = json.dumps(
        {
            "device_id": device.device_id,
            "batch_id": f"deep-{depth}",
            "device_now": "2026-12-03T10:00:00+00:00",
            "pending": 0,
            "changes": [change],
        }
    )
    text = text.replace('"place": "X"', '"place": ' + "[" * depth + "]" * depth)
    response = device.client.post(
        "/api/v1/sync/push",
        data=text,
        headers={**device.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    error = assert_error_shape(response.get_data(), "malformed_json")
    assert "levels deep" in error["message"]
    assert device.pull().get_json()["changes"] == []


def test_a_realistic_batch_is_not_too_deep(device):
    change = create_change(device, location={"lat": 50.6, "lon": -2.4, "accuracy_m": 9})
    assert device.push([change]).get_json()["results"][0]["status"] == "applied"


@pytest.mark.parametrize("method", ["TRACE", "PUT", "PATCH"])
def test_an_unsupported_method_is_405_with_allow(client, method):
    response = client.open("/api/v1/sync/push", method=method)
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert_error_shape(response.get_data(), "method_not_allowed")


def test_the_openapi_document_says_what_is_answered(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert paths["/api/v1/sync/push"]["post"]["requestBody"]["required"] is True
    assert paths["/api/v1/auth/device"]["post"]["requestBody"]["required"] is True
    assert "bad_cursor" in paths["/api/v1/sync/pull"]["get"]["responses"]["400"]["description"]
    for path, method in [
        ("/api/v1/sync/push", "post"),
        ("/api/v1/sync/pull", "get"),
        ("/api/v1/auth/device", "post"),
        ("/api/v1/auth/device", "delete"),
    ]:
        answered = paths[path][method]["responses"]
        assert "unavailable" in answered["503"]["description"], (path, method)
        assert "Retry-After" in answered["503"]["headers"]
    assert "408" in paths["/api/v1/sync/push"]["post"]["responses"]


def test_a_pull_carries_a_bounded_number_of_a_hot_records_conflicts(device, new_device, app):
    from sqlalchemy import func, select

    from server.db import db
    from server.db.models import Conflict

    other = new_device(device.user["username"], "Second phone")
    created = create_change(device)
    assert device.push([created]).get_json()["results"][0]["rev"] == 1
    edits = 0
    for n in range(2 * CONFLICTS_PER_FIELD + 3):  # each edit made without seeing the others
        for phone in (device, other):
            edit = {
                "id": created["id"],
                "op": "upsert",
                "hlc": phone.stamp(),
                "base_rev": 1,
                "data": {
                    "summary": f"Version {n} from {phone.device_id[:6]}",
                    "place": f"Place {n} {phone.device_id[:6]}",
                },
            }
            assert phone.push([edit]).status_code == 200
            edits += 1
    with app.app_context():
        total = db.session.scalar(
            select(func.count())
            .select_from(Conflict)
            .where(Conflict.record_id == created["id"], Conflict.status == "open")
        )
        latest = db.session.scalars(
            select(Conflict.id)
            .where(
                Conflict.record_id == created["id"],
                Conflict.field == "summary",
                Conflict.status == "open",
            )
            .order_by(Conflict.id.desc())
        ).all()
    assert total > 2 * CONFLICTS_PER_FIELD  # more than a pull carries: the console keeps all

    (record,) = device.pull().get_json()["changes"]
    by_field = {}
    for conflict in record["conflicts"]:
        by_field.setdefault(conflict["field"], []).append(conflict["id"])
    assert set(by_field) == {"summary", "place"}
    assert by_field["summary"] == sorted(latest[:CONFLICTS_PER_FIELD])  # the latest, oldest first
    assert all(len(ids) == CONFLICTS_PER_FIELD for ids in by_field.values())
    assert record["open_conflicts"] == total
