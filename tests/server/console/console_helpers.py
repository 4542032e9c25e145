"""Console test helpers: a signed-in browser-like client per user, and ways to make records."""

from __future__ import annotations

import re
import uuid

import sqlalchemy as sa
from helpers import PASSWORD, DeviceClient, create_change

from server.db import db
from server.db.models import AccessLog, Record, Team, User

TEAM, OTHER = "NPT-ONE", "NPT-TWO"


class Console:
    """One person's browser session on the console (its own cookie jar)."""

    def __init__(self, app, username: str | None = None):
        self.app = app
        self.client = app.test_client()
        self.username = username
        if username:
            response = self.sign_in(username)
            assert response.status_code == 302, response.get_data(as_text=True)

    def csrf(self) -> str:
        self.client.get("/console/sign-in")  # makes sure the session has a token
        with self.client.session_transaction() as session:
            return session["csrf"]

    def sign_in(self, username: str, password: str = PASSWORD, **extra):
        token = self.csrf()
        return self.client.post(
            "/console/sign-in",
            data={"username": username, "password": password, "csrf_token": token, **extra},
        )

    def get(self, url: str, **kwargs):
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict | None = None, **kwargs):
        with self.client.session_transaction() as session:
            token = session.get("csrf", "")
        return self.client.post(url, data={"csrf_token": token, **(data or {})}, **kwargs)

    def text(self, url: str) -> str:
        response = self.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response.get_data(as_text=True)


def push_record(device: DeviceClient, **fields) -> str:
    change = create_change(device, **fields)
    result = device.push([change]).get_json()["results"][0]
    assert result["status"] == "applied", result
    return change["id"]


def edit_record(device: DeviceClient, record_id: str, base_rev: int, **fields) -> dict:
    change = {
        "id": record_id,
        "op": "upsert",
        "hlc": device.stamp(),
        "base_rev": base_rev,
        "data": fields,
    }
    return device.push([change]).get_json()["results"][0]


def access_log(app, action: str | None = None) -> list[AccessLog]:
    with app.app_context():
        query = sa.select(AccessLog).order_by(AccessLog.id)
        if action:
            query = query.where(AccessLog.action == action)
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        return rows


def record_row(app, record_id: str) -> Record:
    with app.app_context():
        record = db.session.get(Record, record_id)
        db.session.expunge_all()
        return record


def user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(User.id).where(User.username == username))


def team_id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Team.id).where(Team.code == code))


def record_links(html: str) -> list[str]:
    """Record ids linked from a page, in page order, without repeats (a link from a list carries
    the list's filters, for the record page's next and previous)."""
    seen: list[str] = []
    for found in re.findall(r'href="/console/records/([0-9a-f-]{36})(?:\?[^"#]*)?"', html):
        if found not in seen:
            seen.append(found)
    return seen


def unique() -> str:
    return uuid.uuid4().hex[:8]


def make_conflict(app, device_a: DeviceClient, device_b: DeviceClient, **create) -> tuple[str, int]:
    """Two phones change the summary without seeing each other: returns (record id, conflict id)."""
    record_id = push_record(device_a, **create)
    first = edit_record(device_b, record_id, 1, summary="Second phone's summary")
    assert first["status"] == "applied", first
    second = edit_record(device_a, record_id, 1, summary="First phone's summary")
    assert second["status"] == "conflict", second
    (conflict_id,) = open_conflict_ids(app, record_id)
    return record_id, conflict_id


def open_conflict_ids(app, record_id: str) -> list[int]:
    from server.db.models import Conflict

    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(Conflict.id).where(
                    Conflict.record_id == record_id, Conflict.status == "open"
                )
            )
        )
