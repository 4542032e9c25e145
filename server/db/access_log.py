"""Writing access log entries from anywhere in the server (DPA 2018 Part 3 s.62; issue 11 item 3).

`server.console.audit.log_access` is the console's shortcut (it knows the signed-in user and
session); this is the plain form the API, sign-in and CLI use. An entry is added to the current
transaction, so it commits with the read or the change it records, or not at all.
"""

from __future__ import annotations

import hashlib

from flask import g, has_request_context, request

from server.clock import utcnow
from server.db import db
from server.db.models import AccessLog

_INSERT = AccessLog.__table__.insert()

# Past this many records an entry keeps a count and a digest of the ids, not the ids.
LIST_IDS_UP_TO = 50


def request_address() -> str:
    return (request.remote_addr or "")[:64] if has_request_context() else "cli"


def add_entry(
    action: str,
    *,
    user_id: int | None,
    target_type: str = "",
    target_id: object = "",
    detail: dict | None = None,
    device_id: str | None = None,
    session_id: str | None = None,
    address: str | None = None,
) -> None:
    # A Core INSERT in the session's transaction: no unit-of-work bookkeeping for a row the
    # app never reads back (a pull and a console page each write one; see make bench).
    db.session.execute(
        _INSERT,
        {
            "at": utcnow(),
            "user_id": user_id,
            "action": action,
            "target_type": target_type,
            "target_id": str(target_id)[:80],
            "detail": detail or {},
            "address": request_address() if address is None else address[:64],
            "device_id": device_id,
            "session_id": session_id,
        },
    )
    if has_request_context():
        g.access_logged = True  # commit_logged_reads commits it before the answer leaves


def commit_logged_reads(response):
    """after_request: a read that logged its consultation commits the entry now, after the page
    is rendered (so no ORM object is expired and reloaded mid-render) and before the answer is
    sent: if the entry cannot be written, the answer is an error, not the data."""
    if g.pop("access_logged", False):
        db.session.commit()
    return response


def returned(ids: list[str]) -> dict:
    """What a read handed out: the ids themselves, or for many a count and a digest of them
    (the same ids in the same order give the same digest, so a disclosure can be checked)."""
    if len(ids) <= LIST_IDS_UP_TO:
        return {"count": len(ids), "ids": ids}
    digest = hashlib.sha256("\n".join(ids).encode()).hexdigest()[:32]
    return {"count": len(ids), "digest": digest, "first": ids[0], "last": ids[-1]}
