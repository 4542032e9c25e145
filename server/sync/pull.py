"""Pull: the records a user may see that changed since a cursor, in commit order."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from server.alerts.visible import for_phone
from server.assessment.grid import AssessmentError
from server.clock import from_ms, iso, now_ms
from server.db import db
from server.db.models import Device, User
from server.db.outage import ran_out_waiting
from server.db.writers import high_water
from server.records.redaction import masked
from server.sync.errors import BadCursorError
from server.sync.store import SqlStore
from sync import OpenConflict, PulledRecord, Scope

log = logging.getLogger(__name__)


def record_json(
    record: PulledRecord, reviewers: dict[int, str] | None = None, *, admin: bool = False
) -> dict:
    """The full current state of a record as phones see it.

    `reviewers` names the supervisors who reviewed (id -> display name), so the officer's card can
    say who returned a record. A restricted record reaches only an admin whole; anyone else gets
    it with no free text and no conflicts, so the phone's cached copy loses its text too.
    """
    extra = record.extra
    by = extra.get("reviewed_by_id")
    reviewer = {"id": by, "display_name": (reviewers or {}).get(by, "")} if by else None
    hidden = bool(extra.get("restricted")) and not admin
    redaction = extra.get("redaction")
    return {
        "id": record.id,
        "rev": record.rev,
        "deleted": record.deleted,
        "data": masked(record.fields) if hidden else record.fields,
        "hlc": record.stamps,
        "officer": {
            "id": record.owner.officer_id,
            "username": extra["username"],
            "display_name": extra["display_name"],
        },
        "team": extra["team_code"],
        "review": {
            "state": record.review.state,
            "comment": record.review.comment,
            "by": reviewer,
            "at": iso(extra["reviewed_at"]),
        },
        "conflicts": [
            {"id": c.id, "field": c.field, "winner": c.winner, "loser": c.loser}
            for c in ([] if hidden else latest_conflicts(record.conflicts))
        ],
        "open_conflicts": 0 if hidden else len(record.conflicts),
        "created_at": iso(extra["created_at"]),
        "updated_at": iso(extra["updated_at"]),
        # Added in 1.2.0 (issue 13): the text removed and why; the record restricted.
        "redaction": (
            {"how": redaction.get("how"), "fields": redaction.get("fields"), "at": redaction["at"]}
            if redaction
            else None
        ),
        "restricted": bool(extra.get("restricted")),
    }


# A hot record collects conflicts without limit (283 on one in a load test, ~99 KB on every pull
# that carried it); a phone shows the latest, a supervisor settles them all in the console.
CONFLICTS_PER_FIELD = 3


def latest_conflicts(conflicts: list[OpenConflict]) -> list[OpenConflict]:
    """The last CONFLICTS_PER_FIELD of each field's conflicts, in the order given (oldest
    first: the Store hands them out in the order they were made)."""
    kept: dict[str, int] = {}
    chosen = []
    for conflict in reversed(conflicts):
        if kept.get(conflict.field, 0) < CONFLICTS_PER_FIELD:
            kept[conflict.field] = kept.get(conflict.field, 0) + 1
            chosen.append(conflict)
    return chosen[::-1]


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
        if after <= high_water(db.session):
            return after
    raise BadCursorError("The cursor is not one this server gave; pull from the start.")


# A pull is contact too ("last sync" on the console), but a phone paging through a first pull
# must not queue a write behind every push: note it at most once a minute.
CONTACT_EVERY = timedelta(minutes=1)


def note_contact(device: Device, commit: bool = True) -> None:
    """Mark the device as having synced now (pushes do it in their own transaction); with
    `commit` False the caller commits it with its own writes (the pull's access log entry)."""
    now = from_ms(now_ms())
    if device.last_sync_at is None or now - device.last_sync_at >= CONTACT_EVERY:
        device.last_sync_at = device.last_seen_at = now
        if commit:
            db.session.commit()


def pull(user: User, since: str, limit: int) -> dict:
    """Records the user may see whose seq is past the cursor, in seq (commit) order."""
    after = _cursor(since)
    visible = user.team_ids()
    scope = Scope(None if visible is None else frozenset(visible), user.id)
    page = SqlStore(db.session).pull(after, limit, scope)
    reviewers = _reviewer_names(
        {i for r in page.records if (i := r.extra.get("reviewed_by_id")) is not None}
    )
    body = {
        "changes": [
            record_json(record, reviewers, admin=user.role == "admin") for record in page.records
        ],
        "cursor": str(page.cursor),
        "more": page.more,
    }
    if not page.more:  # the last page of a pull brings the alerts (docs/sync-protocol.md)
        alerts = phone_alerts(user)
        if alerts is not None:
            body["alerts"] = alerts
    return body


def phone_alerts(user: User) -> list[dict] | None:
    """The user's alerts for the phone; None (no `alerts` key: the phone keeps the list it has)
    when the database is too busy to work them out now, which must not fail the pull."""
    try:
        return [alert.json() for alert in for_phone(user)]
    except AssessmentError:  # no catalogue in force yet: nothing to warn about
        return []
    except OperationalError as exc:  # a statement timeout or lock wait under load
        db.session.rollback()
        if ran_out_waiting(exc):
            # Expected under load and handled: one line, not a traceback that reads like a
            # failure (the fault runs alarm on tracebacks and on "database is locked").
            log.warning("pull: alerts left out for user %s: the database is busy", user.id)
        else:
            log.warning("pull: alerts left out for user %s", user.id, exc_info=True)
        return None


def _reviewer_names(ids: set[int]) -> dict[int, str]:
    """Display names of a page's reviewers, in one query (a team has a handful)."""
    if not ids:
        return {}
    rows = db.session.execute(
        select(User.id, User.display_name, User.username).where(User.id.in_(ids))
    )
    return {r.id: r.display_name or r.username for r in rows}
