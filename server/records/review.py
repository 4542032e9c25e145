"""Reviewing a record: a supervisor approves it or returns it to its officer with a comment."""

from __future__ import annotations

from server.db import db
from server.db.models import Change as ChangeRow
from server.db.models import Record, User
from server.sync.push import now_ms
from server.sync.store import allocate_seqs, from_ms


class ActionError(ValueError):
    """A supervisor action that cannot be done as asked (bad state, stale conflict, bad value)."""


def review_record(user: User, record_id: str, state: str, comment: str = "") -> Record:
    """Approve a record or return it to its officer with a comment; phones see it on next pull."""
    if state not in ("approved", "returned"):
        raise ActionError("A review approves or returns a record.")
    if state == "returned" and not comment.strip():
        raise ActionError("Say what the officer should fix when returning a record.")
    session = db.session
    seq = allocate_seqs(session, 1)  # takes the writers' lock first
    record = session.get(Record, record_id)
    if record is None:
        raise ActionError("No such record.")
    now = from_ms(now_ms())
    record.review_state = state
    record.review_comment = comment.strip()
    record.reviewed_by_id = user.id
    record.reviewed_at = now
    record.seq = seq
    record.updated_at = now
    session.add(ChangeRow(
        record_id=record.id, op="review", status="applied", rev=record.rev, seq=seq,
        data={"fields": ["review"], "values": {"state": state, "comment": record.review_comment}},
        user_id=user.id, occurred_at=record.occurred_at, received_at=now,
    ))
    session.commit()
    return record

