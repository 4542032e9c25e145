"""The one error table (server.errors.Code): every code is reachable, documented, and answered in
the one shape with its status."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from helpers import PASSWORD, DeviceClient, create_change

from server.errors import Code, codes_by_status

ROOT = Path(__file__).resolve().parents[2]


def _push_raw(client, device, data, content_type="application/json"):
    return client.post(
        "/api/v1/sync/push", data=data, headers={**device.headers, "Content-Type": content_type}
    )


def _sign_in(client, username, password):
    return client.post(
        "/api/v1/auth/device",
        json={"username": username, "password": password, "device_name": "phone"},
    )


def _revoked(client, device, **_):
    client.delete("/api/v1/auth/device", headers=device.headers)
    return device.pull()


def _rate_limited(client, make_user, **_):
    username = make_user("officer", "NPT-TWO")
    for _ in range(10):
        _sign_in(client, username, "wrong")
    return _sign_in(client, username, PASSWORD)


def _password_reset(client, make_user, app, **_):
    from server.db import db
    from server.db.models import User

    username = make_user("officer", "NPT-TWO")
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == username))
        user.must_change_password = True
        db.session.commit()
    return _sign_in(client, username, PASSWORD)


def _internal(client, device, monkeypatch, **_):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("server.api.sync.pull", broken)
    return device.pull()


class _StalledBody:
    """A request body whose sender went quiet: the read times out, as under server/worker.py."""

    def read(self, *_):
        raise TimeoutError("timed out")

    readinto = readline = read


def _stalled(client, device, **_):
    return client.post(
        "/api/v1/sync/push",
        data="{}" * 1000,
        headers={**device.headers, "Content-Type": "application/json"},
        environ_overrides={"wsgi.input": _StalledBody()},
    )


def _database_gone(device, monkeypatch, **_):
    from sqlalchemy.exc import OperationalError

    def unreachable(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr("server.api.sync.pull", unreachable)
    return device.pull()


TRIGGERS = {
    Code.MALFORMED_JSON: lambda client, device, **_: _push_raw(client, device, "{not json"),
    Code.VALIDATION_FAILED: lambda client, device, **_: _push_raw(client, device, "{}"),
    Code.BAD_CURSOR: lambda device, **_: device.pull(since="999999"),
    Code.UNAUTHENTICATED: lambda client, **_: client.get("/api/v1/sync/pull"),
    Code.TOKEN_REVOKED: _revoked,
    Code.BAD_CREDENTIALS: lambda client, device, **_: _sign_in(
        client, device.user["username"], "wrong"
    ),
    Code.FORBIDDEN: lambda client, make_user, **_: _sign_in(
        client, make_user("panel", None), PASSWORD
    ),
    Code.PASSWORD_CHANGE_REQUIRED: _password_reset,
    Code.NOT_FOUND: lambda client, **_: client.get("/api/v1/no-such-thing"),
    Code.METHOD_NOT_ALLOWED: lambda client, **_: client.get("/api/v1/sync/push"),
    Code.DEVICE_MISMATCH: lambda device, **_: device.push([], device_id="f" * 32),
    Code.BODY_TOO_LARGE: lambda client, device, app, **_: _push_raw(
        client, device, "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    ),
    Code.BATCH_TOO_LARGE: lambda device, app, **_: device.push(
        [create_change(device) for _ in range(app.config["MAX_CHANGES"] + 1)]
    ),
    Code.UNSUPPORTED_MEDIA_TYPE: lambda client, device, **_: _push_raw(
        client, device, "{}", "text/plain"
    ),
    Code.CLOCK_DRIFT: lambda device, **_: device.push(
        [], device_now=(datetime.now(timezone.utc) + timedelta(days=400)).isoformat()
    ),
    Code.RATE_LIMITED: _rate_limited,
    Code.INTERNAL_ERROR: _internal,
    Code.REQUEST_TIMEOUT: _stalled,
    Code.UNAVAILABLE: _database_gone,
}


def test_every_code_has_a_request_that_gets_it():
    assert set(TRIGGERS) == set(Code)


@pytest.mark.parametrize("code", list(Code), ids=lambda code: code.value)
def test_each_code_is_answered_in_the_one_shape(code, app, client, device, make_user, monkeypatch):
    if code is Code.INTERNAL_ERROR:
        app.config["PROPAGATE_EXCEPTIONS"] = False  # answer as production does
    response = TRIGGERS[code](
        app=app, client=client, device=device, make_user=make_user, monkeypatch=monkeypatch
    )
    assert response.status_code == code.status, response.get_data(as_text=True)
    assert response.is_json
    error = response.get_json()["error"]
    assert error["code"] == code.value
    assert isinstance(error["message"], str) and error["message"]


def _documented() -> dict[str, set[int]]:
    """code -> the statuses docs/sync-protocol.md's error table gives it."""
    text = (ROOT / "docs" / "sync-protocol.md").read_text(encoding="utf-8")
    found: dict[str, set[int]] = {}
    for line in text.splitlines():
        row = re.match(r"\| (\d{3}|5xx[^|]*) \| ([^|]+) \|", line)
        if row:
            statuses = {500, 503} if row.group(1).startswith("5xx") else {int(row.group(1))}
            for name in re.findall(r"`([a-z_]+)`", row.group(2)):
                found.setdefault(name, set()).update(statuses)
    return found


def test_the_protocol_document_lists_every_code_with_its_status():
    documented = _documented()
    assert {code.value: code.status in documented.get(code.value, set()) for code in Code} == {
        code.value: True for code in Code
    }


def test_the_openapi_document_describes_errors_from_the_table(client):
    spec = client.get("/api/openapi.json").get_json()
    table = codes_by_status()
    for path, operations in spec["paths"].items():
        if not path.startswith("/api/v1/") or path.startswith("/api/v1/assessment"):
            continue
        for operation in operations.values():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    named = set(re.findall(r"([a-z_]+):", response["description"]))
                    assert named == {c.value for c in table[int(status)]}, (path, status)


def test_a_second_device_is_not_the_first(client, device):
    # DEVICE_MISMATCH's trigger names a device id nobody has; a real other phone is refused too.
    other = DeviceClient(client, device.user["username"], "Other phone")
    response = device.push([], device_id=other.device_id)
    assert response.get_json()["error"]["code"] == Code.DEVICE_MISMATCH.value
