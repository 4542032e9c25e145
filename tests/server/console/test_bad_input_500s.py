"""Bad input gets a precise 400 (or a per-change rejection), never a 500 (issue 11 item 10)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from console_helpers import Console
from helpers import create_change

from server.db import db
from server.db.models import Change, Record

HUGE = str(10**30)


def _raw_push(client, device, changes, **extra):
    body = {
        "device_id": device.device_id,
        "batch_id": uuid.uuid4().hex,
        "device_now": datetime.now(timezone.utc).isoformat(),
        "pending": 0,
        "changes": changes,
        **extra,
    }
    return client.post(
        "/api/v1/sync/push",
        data=json.dumps(body),  # ensure_ascii: "\ud800"
        headers={**device.headers, "Content-Type": "application/json"},
    )


def test_json_nested_too_deep_is_malformed(client, device):
    deep = "[" * 100_000 + "]" * 100_000
    response = client.post(
        "/api/v1/sync/push",
        data=deep,
        headers={**device.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_json"


def test_a_huge_pending_count_is_a_validation_error(device):
    response = device.push([], pending=10**30)
    assert response.status_code == 400
    assert "pending" in response.get_json()["error"]["fields"]


def test_a_huge_base_rev_rejects_only_that_change(app, device):
    bad, good = create_change(device), create_change(device)
    bad["base_rev"] = 10**30
    response = device.push([bad, good])
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["rejected", "applied"]
    assert "base_rev" in results[0]["errors"]


def test_a_lone_surrogate_rejects_only_its_change(app, client, device):
    bad, good = create_change(device, summary="Spoke \ud800 with staff"), create_change(device)
    response = _raw_push(client, device, [bad, good])
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["rejected", "applied"]
    assert results[0]["id"] == bad["id"] and results[0]["hlc"] == bad["hlc"]
    assert "summary" in results[0]["errors"]
    with app.app_context():
        assert db.session.get(Record, good["id"]) is not None
        assert db.session.get(Record, bad["id"]) is None
        statuses = db.session.scalars(sa.select(Change.status).order_by(Change.id)).all()
        assert statuses == ["rejected", "applied"]  # the refusal is in the change log


def test_a_surrogate_pair_is_an_emoji_and_applies(app, client, device):
    change = create_change(device, summary="Thanks \U0001f600")
    response = _raw_push(client, device, [change])
    assert response.get_json()["results"][0]["status"] == "applied"


def test_a_lone_surrogate_in_the_envelope_is_rejected_not_a_500(client, device):
    change = create_change(device)
    change["id"] = "\udc00" + change["id"][1:]
    response = _raw_push(client, device, [change])
    assert response.status_code == 200
    assert response.get_json()["results"][0]["status"] == "rejected"


def test_a_lone_surrogate_in_the_batch_id_is_a_validation_error(client, device):
    response = _raw_push(client, device, [], batch_id="b\ud800")
    assert response.status_code == 400
    assert "batch_id" in response.get_json()["error"]["fields"]


def test_a_lone_surrogate_in_a_sign_in_is_a_validation_error(client, device):
    response = client.post(
        "/api/v1/auth/device",
        data=json.dumps({"username": "pc\ud800", "password": "x" * 12, "device_name": "p"}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "validation_failed"


@pytest.mark.parametrize(
    "url",
    [
        f"/console/records?officer={HUGE}",
        f"/console/records?before={HUGE}",
        f"/console/records?offset={HUGE}",
        f"/console/records/export.csv?officer={HUGE}",
        f"/console/people/{HUGE}",
        f"/console/access-log?before={HUGE}",
        f"/console/access-log?offset={HUGE}",
        f"/console/access-log?user={HUGE}",
        f"/console/conflicts?offset={HUGE}",
        f"/console/activity?days={HUGE}",
        "/console/records?officer=%C2%B2",
    ],
)
def test_huge_numbers_in_console_urls_are_not_500s(app, make_user, url):
    admin = Console(app, make_user("admin", None))
    response = admin.get(url)
    assert response.status_code in (200, 302, 400, 404), (url, response.status_code)


def test_a_huge_officer_filter_is_dropped_with_a_message(app, make_user):
    supervisor = Console(app, make_user("supervisor", "NPT-ONE"))
    html = supervisor.text(f"/console/records?officer={HUGE}")
    assert "Choose an officer from the list." in html
