"""Reviewing a record: a supervisor approves it or returns it to its officer with a comment."""

from __future__ import annotations

import sqlalchemy as sa

from server.clock import now_ms
from server.db import db
from server.db.models import Record, User
from server.sync.store import Actor, SqlStore
from sync import BatchWrites, ReviewWrite


class ActionError(ValueError):
    """A supervisor action that cannot be done as asked (bad state, stale conflict, bad value)."""


def review_record(user: User, record_id: str, state: str, comment: str = "") -> Record:
    """Approve a record or return it to its officer with a comment; phones see it on next pull."""
    if state not in ("approved", "returned"):
        raise ActionError("A review approves or returns a record.")
    if state == "returned" and not comment.strip():
        raise ActionError("Say what the officer should fix when returning a record.")
    session = db.session
    store = SqlStore(session, Actor(user.id, user.team_id, None, None, None, resets_review=False))
    store.lock()  # the writers' lock first: the record cannot move between load and save
    if not store.load([record_id]):
        session.rollback()
        raise ActionError("No such record.")
    store.save(
        BatchWrites(reviews=[ReviewWrite(record_id, state, comment.strip(), user.id, now_ms())])
    )
    session.commit()
    record = session.get(Record, record_id)
    assert record is not None
    return record


def approve_records(user: User, record_ids: list[str]) -> int:
    """Approve many waiting records in one transaction: one review (and one change-log row) per
    record, as if each were approved on its own page. Refused whole if any of them stopped
    waiting (deleted, reviewed, gone) since the supervisor saw the count."""
    if not record_ids:
        raise ActionError("No records are waiting for review in this list.")
    session = db.session
    store = SqlStore(session, Actor(user.id, user.team_id, None, None, None, resets_review=False))
    store.lock(record_ids)  # their row locks on PostgreSQL: the check below cannot go stale
    still = set(
        session.scalars(
            sa.select(Record.id).where(
                Record.id.in_(record_ids),
                Record.review_state == "pending",
                Record.deleted.is_(False),
            )
        )
    )
    if len(still) != len(set(record_ids)) or len(store.load(record_ids)) != len(still):
        session.rollback()
        raise ActionError(
            f"{len(set(record_ids)) - len(still)} of these records changed while you confirmed "
            "(reviewed, deleted or edited elsewhere). Nothing was approved; check the list again."
        )
    at = now_ms()
    store.save(
        BatchWrites(
            reviews=[
                ReviewWrite(rid, "approved", "", user.id, at) for rid in dict.fromkeys(record_ids)
            ]
        )
    )
    session.commit()
    return len(still)
