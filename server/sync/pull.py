"""Pull: the records a user may see that changed since a cursor, in commit order."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from server.db import db
from server.db.models import Conflict, Device, Record, SyncCounter, Team, User
from server.sync.errors import BadCursorError
from server.sync.push import now_ms
from server.sync.store import field_stamps, from_ms

# What a pull reads: columns, not ORM objects, which cost more to build than the query.
PULL_COLUMNS = (
    Record.id, Record.rev, Record.deleted, Record.data, Record.meta, Record.seq,
    Record.review_state, Record.review_comment, Record.reviewed_at, Record.created_at,
    Record.updated_at, User.id.label("officer_id"), User.username, User.display_name,
    Team.code.label("team_code"),
)


def record_json(row, conflicts: list[dict]) -> dict:
    """The full current state of a record as phones see it, from a row of PULL_COLUMNS."""
    return {
        "id": row.id,
        "rev": row.rev,
        "deleted": row.deleted,
        "data": row.data,
        "hlc": field_stamps(row.meta),
        "officer": {"id": row.officer_id, "username": row.username,
                    "display_name": row.display_name},
        "team": row.team_code,
        "review": {
            "state": row.review_state,
            "comment": row.review_comment,
            "at": _iso(row.reviewed_at),
        },
        "conflicts": conflicts,
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
    }


def _iso(value: datetime | None) -> str | None:
    return value.replace(tzinfo=timezone.utc).isoformat() if value else None


def _cursor(since: str) -> int:
    """The sequence number a cursor stands for; one the server never gave is refused.

    A cursor past the counter (a phone that synced with a database since restored from backup)
    would otherwise silently get nothing; bad_cursor tells it to pull from the start.
    """
    if not since:
        return 0
    # isascii: str.isdigit() is also true of "¹" and other digits int() will not read.
    if since.isascii() and since.isdigit() and len(since) <= 18:
        after = int(since)
        if after <= db.session.scalar(select(SyncCounter.value).where(SyncCounter.id == 1)):
            return after
    raise BadCursorError("The cursor is not one this server gave; pull from the start.")


# A pull is contact too ("last sync" on the console), but a phone paging through a first pull
# must not queue a write behind every push: note it at most once a minute.
CONTACT_EVERY = timedelta(minutes=1)


def note_contact(device: Device) -> None:
    """Mark the device as having synced now (pushes do it in their own transaction)."""
    now = from_ms(now_ms())
    if device.last_sync_at is None or now - device.last_sync_at >= CONTACT_EVERY:
        device.last_sync_at = device.last_seen_at = now
        db.session.commit()


def pull(user: User, since: str, limit: int) -> dict:
    """Records the user may see whose seq is past the cursor, in seq (commit) order."""
    after = _cursor(since)
    query = (
        select(*PULL_COLUMNS)
        .join(User, Record.officer_id == User.id)
        .join(Team, Record.team_id == Team.id)
        .where(Record.seq > after)
        .order_by(Record.seq)
        .limit(limit + 1)
    )
    visible = user.team_ids()
    if visible is not None:
        query = query.where((Record.team_id.in_(visible)) | (Record.officer_id == user.id))
    rows = db.session.execute(query).all()
    more = len(rows) > limit
    rows = rows[:limit]
    open_conflicts: dict[str, list[dict]] = {}
    if rows:
        for c in db.session.execute(
            select(Conflict.id, Conflict.record_id, Conflict.field, Conflict.winner, Conflict.loser)
            .where(Conflict.record_id.in_([row.id for row in rows]), Conflict.status == "open")
            .order_by(Conflict.id)
        ):
            open_conflicts.setdefault(c.record_id, []).append(
                {"id": c.id, "field": c.field, "winner": c.winner, "loser": c.loser})
    changes = [record_json(row, open_conflicts.get(row.id, [])) for row in rows]
    cursor = str(rows[-1].seq) if rows else str(after)
    return {"changes": changes, "cursor": cursor, "more": more}

