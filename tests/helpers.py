"""Helpers for tests that act as a phone: sign in, push, pull, make records."""

from __future__ import annotations

import uuid

PASSWORD = "correct-horse-battery"


class DeviceClient:
    """A signed-in phone: its token, device id, and helpers to push and pull."""

    def __init__(self, client, username, device_name="Test phone"):
        self.client = client
        response = client.post(
            "/api/v1/auth/device",
            json={"username": username, "password": PASSWORD, "device_name": device_name},
        )
        assert response.status_code == 201, response.get_json()
        body = response.get_json()
        self.token, self.device_id, self.user = body["token"], body["device_id"], body["user"]
        self.counter = 0

    @property
    def headers(self):
        return {"Authorization": f"Bearer {self.token}"}

    def stamp(self, millis: int | None = None) -> str:
        import time

        self.counter += 1
        millis = millis if millis is not None else int(time.time() * 1000)
        return f"{millis:015d}-{self.counter:05d}-{self.device_id}"

    def push(self, changes, batch_id=None, device_now=None, **extra):
        from datetime import datetime, timezone

        body = {
            "device_id": self.device_id,
            "batch_id": batch_id or uuid.uuid4().hex,
            "device_now": device_now or datetime.now(timezone.utc).isoformat(),
            "pending": 0,
            "app_version": "test",
            "changes": changes,
            **extra,
        }
        return self.client.post("/api/v1/sync/push", json=body, headers=self.headers)

    def pull(self, since="", limit=500):
        return self.client.get(
            f"/api/v1/sync/pull?since={since}&limit={limit}", headers=self.headers
        )


def record_data(**overrides) -> dict:
    """A valid record's fields, as an app would send them on create."""
    from datetime import datetime, timedelta, timezone

    data = {
        "schema_version": 2,
        "occurred_at": (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat(),
        "kind": "face_to_face",
        "standards": ["F2F"],
        "place": "High Street",
        "location": {"lat": 50.61, "lon": -2.45, "accuracy_m": 12},
        "duration_minutes": 15,
        "people_count": 3,
        "groups": ["young_people"],
        "summary": "Spoke with shop staff about shoplifting.",
        "follow_up": "",
    }
    data.update(overrides)
    return data


def create_change(device: DeviceClient, **overrides) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "op": "upsert",
        "hlc": device.stamp(),
        "base_rev": None,
        "data": record_data(**overrides),
    }


def push_edit(device: DeviceClient, record_id: str, rev: int, **data) -> dict:
    """Push an edit of `data` to a record at `rev`; returns its (applied) result."""
    change = {"id": record_id, "op": "upsert", "hlc": device.stamp(), "base_rev": rev}
    result = device.push([{**change, "data": data}]).get_json()["results"][0]
    assert result["status"] == "applied", result
    return result
