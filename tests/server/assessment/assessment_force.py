"""A small force built by hand through the real write path (server.sync.push.push)."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timezone

import sqlalchemy as sa
from helpers import PASSWORD

from server.accounts.auth import token_digest
from server.accounts.people import add_team, add_user
from server.db import db
from server.db.models import Device, Record, Team, User
from server.records.review import review_record
from server.sync.push import push


def utc(text: str) -> datetime:
    """'2026-07-01 09:00' (UTC) -> aware datetime; an explicit offset is honoured."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class Force:
    """Teams, officers and records, written with server.sync.push.push like a phone would."""

    def __init__(self):
        self.devices: dict[str, tuple[User, Device]] = {}
        self.counter = 0

    def team(self, code: str, name: str | None = None) -> Team:
        found = db.session.scalar(sa.select(Team).where(Team.code == code))
        return found or add_team(code, name or f"Team {code}", f"{code} area")

    def officer(self, team: str, username: str | None = None, role: str = "officer") -> str:
        self.team(team)
        username = username or f"pc.{team.lower()}.{len(self.devices) + 1}"
        user = add_user(username, PASSWORD, role, team, username.upper())
        device = Device(
            id=secrets.token_hex(16),
            user_id=user.id,
            name="Phone",
            token_hash=token_digest(secrets.token_urlsafe(16)),
        )
        db.session.add(device)
        db.session.commit()
        self.devices[username] = (user, device)
        return username

    def user(self, role: str, team: str | None = None, username: str | None = None) -> User:
        if team:
            self.team(team)
        return add_user(username or f"{role}.{uuid.uuid4().hex[:6]}", PASSWORD, role, team)

    def _stamp(self, device: Device) -> str:
        self.counter += 1
        millis = int(datetime.now(timezone.utc).timestamp() * 1000)
        return f"{millis:015d}-{self.counter % 100000:05d}-{device.id}"

    def _push(self, username: str, changes: list[dict]) -> list[dict]:
        user, device = self.devices[username]
        response = push(
            user,
            device,
            {
                "batch_id": uuid.uuid4().hex,
                "device_now": datetime.now(timezone.utc),
                "pending": 0,
                "app_version": "test",
                "changes": changes,
            },
        )
        for result in response["results"]:
            assert result["status"] in ("applied", "merged"), result
        return response["results"]

    def add(self, username: str, when: str, kind: str = "face_to_face", **fields) -> str:
        """One record at `when` (UTC unless it carries an offset); returns its id."""
        return self.add_many(username, [(when, kind, fields)])[0]

    def add_many(self, username: str, items: list[tuple[str, str, dict]]) -> list[str]:
        from server.catalogues import catalogues

        _, device = self.devices[username]
        changes = []
        for when, kind, fields in items:
            data = {
                "schema_version": 2,
                "occurred_at": utc(when).isoformat(),
                "kind": kind,
                "standards": catalogues().current.default_standards(kind),
                "summary": fields.pop("summary", f"{kind} at {when}"),
            }
            for name in ("publicised_at",):
                if fields.get(name):
                    fields[name] = utc(fields[name]).isoformat()
            data.update(fields)
            changes.append(
                {
                    "id": str(uuid.uuid4()),
                    "op": "upsert",
                    "hlc": self._stamp(device),
                    "base_rev": None,
                    "data": data,
                }
            )
        self._push(username, changes)
        return [c["id"] for c in changes]

    def delete(self, username: str, record_id: str) -> None:
        _, device = self.devices[username]
        rev = db.session.get(Record, record_id).rev
        self._push(
            username,
            [
                {
                    "id": record_id,
                    "op": "delete",
                    "hlc": self._stamp(device),
                    "base_rev": rev,
                    "data": {},
                }
            ],
        )
        db.session.expire_all()

    def review(self, record_id: str, state: str, comment: str = "Please fix") -> None:
        record = db.session.get(Record, record_id)
        supervisor = db.session.scalar(
            sa.select(User).where(User.role == "supervisor", User.team_id == record.team_id)
        ) or self.user("supervisor", db.session.get(Team, record.team_id).code)
        review_record(supervisor, record_id, state, comment if state == "returned" else "")
        db.session.expire_all()
