"""Retention: free text removed, and records deleted, once past the force's time for them.

Two rules, from the instance configuration (server/config.py):

- `RETENTION_TEXT_YEARS` (default 6): a record's free text (summary, follow-up, place, map
  position) is removed once its local date (the catalogue's time zone, Europe/London) is that
  many years past: a record of 1 July 2019 (local) loses its text on 1 July 2025. The record
  stays and counts exactly as before (server/records/redaction.py).
- `RETENTION_RECORD_YEARS` (default 0: never): the record itself, its change log, conflicts and
  assessment facts are deleted. Figures of the periods it fell in change then, which is why
  this rule, if set, should be longer than any period the force still assesses.

`beatbook retention run [--dry-run]` applies both; each rule that removed anything writes one
access log entry (what, how many, which ids or their digest, under which rule).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from server.assessment import rollup
from server.assessment.periods import local_midnight_utc, to_local
from server.catalogues import catalogues
from server.clock import utcnow
from server.db import db
from server.db.access_log import add_entry, returned
from server.db.models import (
    AssessmentFact,
    Change,
    Conflict,
    Record,
    RecordGroup,
    RecordStandard,
    SyncBatch,
)
from server.db.writers import lock_records
from server.records.redaction import SEALED, redact

# A stored push reply only answers a phone re-sending the same batch (minutes, or days for a
# phone long out of signal); older ones are dropped, with whatever conflict values they held.
REPLY_DAYS = 30
PER_TRANSACTION = 500


@dataclass
class Outcome:
    """What one rule did (or, in a dry run, would do)."""

    rule: str
    cutoff_utc: datetime | None
    ids: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.ids)


def years_before(day: date, years: int) -> date:
    """The same day `years` earlier; 29 February becomes the 28th (kept a day longer)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def cutoff(now_utc: datetime, years: int, tz: ZoneInfo) -> datetime:
    """The naive UTC instant before which a record's local date is `years` or more past."""
    today = to_local(now_utc, tz).date()
    return local_midnight_utc(years_before(today, years), tz)


def _due(before: datetime, text: bool) -> list[str]:
    query = sa.select(Record.id).where(Record.occurred_at < before).order_by(Record.occurred_at)
    if text:
        query = query.where(Record.redaction.is_(None))
    return list(db.session.scalars(query))


def run(*, dry_run: bool = False, now_utc: datetime | None = None) -> list[Outcome]:
    """Apply the retention rules now (or at `now_utc`).

    Work is done PER_TRANSACTION records at a time, each part in its own transaction holding
    the writers' lock with its own access log entry, so a first run over years of records never
    holds up the phones' pushes for long, and a run stopped midway leaves every part it did
    logged (running it again carries on)."""
    now_utc = now_utc or utcnow()
    tz = catalogues().current.tz
    config = current_app.config
    years = config["RETENTION_TEXT_YEARS"]
    text = Outcome(f"RETENTION_TEXT_YEARS={years}", cutoff(now_utc, years, tz))
    kept = config["RETENTION_RECORD_YEARS"]
    records = Outcome(f"RETENTION_RECORD_YEARS={kept}", cutoff(now_utc, kept, tz) if kept else None)
    assert text.cutoff_utc is not None
    if dry_run:
        text.ids = _due(text.cutoff_utc, text=True)
        records.ids = _due(records.cutoff_utc, text=False) if records.cutoff_utc else []
        db.session.rollback()
        return [text, records]
    if records.cutoff_utc is not None:
        for part in _parts(_due(records.cutoff_utc, text=False)):
            lock_records(db.session, part)  # a push of one of them waits (PostgreSQL: rows)
            _delete(part)
            _log(records, part, "retention_delete", "records, their change log, conflicts, facts")
            db.session.commit()
            records.ids.extend(part)
    # Old push replies go first: fewer for each part's redaction to look through.
    db.session.execute(
        sa.delete(SyncBatch).where(SyncBatch.received_at < now_utc - timedelta(days=REPLY_DAYS))
    )
    db.session.commit()
    for part in _parts(_due(text.cutoff_utc, text=True)):
        done = redact(db.session, part, "retention", by_id=None, why=text.rule)
        _log(text, done, "retention_purge", "free text: " + ", ".join(SEALED))
        db.session.commit()
        text.ids.extend(done)
    if text.ids or records.ids:
        compact()
    return [text, records]


def _parts(ids: list[str]) -> list[list[str]]:
    return [ids[i : i + PER_TRANSACTION] for i in range(0, len(ids), PER_TRANSACTION)]


def _log(outcome: Outcome, ids: list[str], action: str, what: str) -> None:
    if not ids:
        return
    add_entry(
        action,
        user_id=None,
        target_type="records",
        detail={
            "rule": outcome.rule,
            "what": what,
            "cutoff_utc": outcome.cutoff_utc.isoformat() if outcome.cutoff_utc else None,
            **returned(ids),
        },
    )


def _delete(ids: list[str]) -> None:
    """Delete records and everything about them; the rollups are rebuilt from the facts left."""
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for model in (AssessmentFact, RecordStandard, RecordGroup, Conflict):
            db.session.execute(sa.delete(model).where(model.record_id.in_(chunk)))
        db.session.execute(sa.delete(Change).where(Change.record_id.in_(chunk)))
        db.session.execute(sa.delete(Record).where(Record.id.in_(chunk)))
    if ids:
        rollup.forget()  # the next assessment rebuilds every month from the facts that remain


def compact() -> None:
    """Leave no copy of removed text in the database files where the engine allows it: SQLite's
    FTS5 segments are merged (deleted entries dropped) and the WAL checkpointed; PostgreSQL's
    dead row versions are vacuumed."""
    engine = db.engine
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO record_fts(record_fts) VALUES ('optimize')"))
        with engine.connect() as conn:
            conn.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
    elif engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM record, change, conflict, sync_batch"))
