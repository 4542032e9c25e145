"""Time as the server keeps it: naive UTC datetimes in the database, milliseconds since the epoch
in the sync engine, ISO 8601 with an offset on the wire. Local (force) time is server.web.timefmt
for pages and server.assessment.periods for assessments."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache


def utcnow() -> datetime:
    """Now, as the database stores times (naive UTC)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def now_ms() -> int:
    """Now in milliseconds since the epoch, as the sync engine counts."""
    return int(datetime.now(timezone.utc).timestamp() * 1000)


# A push converts the same instants again and again (one receipt time for a whole batch; a
# record's time for its row and again for its change-log row): datetimes are immutable, so the
# conversions are remembered.
@lru_cache(maxsize=4096)
def from_ms(ms: int) -> datetime:
    """Milliseconds since the epoch as a stored (naive UTC) time."""
    return datetime.fromtimestamp(ms / 1000, timezone.utc).replace(tzinfo=None)


@lru_cache(maxsize=4096)
def naive_utc(value: str | None) -> datetime | None:
    """An ISO 8601 time with an offset (a record's field) as a stored (naive UTC) time."""
    if not value:
        return None
    return datetime.fromisoformat(value).astimezone(timezone.utc).replace(tzinfo=None)


def iso(moment: datetime | None) -> str | None:
    """A stored (naive UTC) time on the wire: ISO 8601 with +00:00."""
    return moment.replace(tzinfo=timezone.utc).isoformat() if moment else None
