"""Subject access: every record and change-log entry mentioning a phrase, for a request under
the Data Protection Act 2018 (e.g. the address a member of the public gives).

The search is a plain case-insensitive substring test over the free text and the change log's
stored values (not the word index: a house number or a postcode is not a word prefix), so it
reads every row: an admin's occasional request, not a page anyone opens often. Restricted
records are included: a request covers them too. The access log keeps the request's reference
and a digest of the phrase, not the phrase itself: the log is kept for ever and cannot be
edited, and the phrase is itself the subject's personal data.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass

import sqlalchemy as sa

from server.clock import iso, utcnow
from server.db import db
from server.db.access_log import add_entry, returned
from server.db.models import Change, Record, Team, User
from server.records.text import safe_cell

MIN_PHRASE = 3
TEXT_COLUMNS = ("summary", "follow_up", "place", "contact_role", "contact_org", "review_comment")
CSV_COLUMNS = ["source", "record_id", "change_id", "at_utc", "who", "team", "field", "text"]


class SubjectAccessError(ValueError):
    """A request that cannot be run (the phrase too short)."""


@dataclass
class Found:
    records: list[dict]
    changes: list[dict]


def _lower(column):
    """lower() that folds every letter: PostgreSQL's does; on SQLite, the function the engine
    registers (its built-in folds ASCII only)."""
    if db.session.get_bind().dialect.name == "sqlite":
        return sa.func.unicode_lower(column)
    return sa.func.lower(column)


def _like(phrase: str) -> str:
    escaped = phrase.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def find(phrase: str) -> Found:
    phrase = (phrase or "").strip()
    if len(phrase) < MIN_PHRASE:
        raise SubjectAccessError(f"Give a phrase of at least {MIN_PHRASE} characters.")
    pattern = _like(phrase)
    tests = [_lower(getattr(Record, name)).like(pattern, escape="\\") for name in TEXT_COLUMNS]
    rows = db.session.execute(
        sa.select(Record, Team.code, User.username)
        .join(Team, Team.id == Record.team_id)
        .join(User, User.id == Record.officer_id)
        .where(sa.or_(*tests))
        .order_by(Record.occurred_at, Record.id)
    ).all()
    records = [
        {
            "id": r.id,
            "team": team,
            "officer": username,
            "occurred_at": iso(r.occurred_at),
            "kind": r.kind,
            "deleted": r.deleted,
            "restricted": r.restricted,
            "text_removed": (r.redaction or {}).get("how"),
            "data": r.data,
            "review_state": r.review_state,
            "review_comment": r.review_comment,
        }
        for r, team, username in rows
    ]
    text = _lower(sa.cast(Change.data, sa.Text))
    changes = [
        {
            "id": c.id,
            "record_id": c.record_id,
            "op": c.op,
            "status": c.status,
            "received_at": iso(c.received_at),
            "user": username,
            "device_id": c.device_id,
            "values": (c.data or {}).get("values"),
        }
        for c, username in db.session.execute(
            sa.select(Change, User.username)
            .outerjoin(User, User.id == Change.user_id)
            .where(text.like(pattern, escape="\\"))
            .order_by(Change.id)
        )
        if phrase.lower() in json.dumps((c.data or {}).get("values"), ensure_ascii=False).lower()
    ]
    return Found(records, changes)


def export(
    phrase: str, reference: str, fmt: str, *, user_id: int | None, session_id: str | None = None
) -> str:
    """The request's findings as JSON or CSV text, logged (committed by the caller)."""
    if fmt not in ("json", "csv"):
        raise SubjectAccessError("The format is json or csv.")
    reference = (reference or "").strip()[:80]
    if not reference:
        raise SubjectAccessError("Give the request's reference (e.g. SAR-2026-014).")
    found = find(phrase)
    add_entry(
        "subject_access_export",
        user_id=user_id,
        target_type="records",
        detail={
            "reference": reference,
            "phrase_sha256": hashlib.sha256(phrase.strip().encode()).hexdigest(),
            "format": fmt,
            "records": returned([r["id"] for r in found.records]),
            "changes": len(found.changes),
        },
        session_id=session_id,
    )
    if fmt == "json":
        body = {
            "reference": reference,
            "phrase": phrase.strip(),
            "generated_at": iso(utcnow()),
            "records": found.records,
            "changes": found.changes,
        }
        return json.dumps(body, ensure_ascii=False, indent=2, default=str)
    return _csv(found, phrase.strip().lower())


def _csv(found: Found, phrase: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in found.records:
        for name in TEXT_COLUMNS:
            value = r["data"].get(name) if name in r["data"] else r.get(name)
            if isinstance(value, str) and phrase in value.lower():
                row = [
                    "record",
                    r["id"],
                    "",
                    r["occurred_at"],
                    r["officer"],
                    r["team"],
                    name,
                    value,
                ]
                writer.writerow([safe_cell(v) for v in row])
    for c in found.changes:
        for name, value in (c["values"] or {}).items():
            if phrase in json.dumps(value, ensure_ascii=False).lower():
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                row = [
                    "change",
                    c["record_id"],
                    c["id"],
                    c["received_at"],
                    c["user"],
                    "",
                    name,
                    text,
                ]
                writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()
