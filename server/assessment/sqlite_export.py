"""`beatbook export --sqlite FILE`: records, the change log and assessments in one standalone
SQLite file (sqlite-utils), for analysts and for archiving a year.

Tables: teams, people (no password hashes), records (+ record_standards, record_groups, with
full-text search on summary and follow-up), changes, assessments (one row per period, team and
standard), assessment_measures, grades. Views: `grid` (one row per period and team, a rating
column per standard) and `grid_figures` (the same with the figures).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa
import sqlite_utils

from server.assessment.grid import AssessmentError, assess
from server.assessment.periods import Period, containing
from server.catalogues import catalogues
from server.clock import iso, utcnow
from server.db import db
from server.db.models import Change, Record, RecordGroup, RecordStandard, Team, User
from server.records import codes as record_codes

BATCH = 5000
Progress = Callable[[int], None]


def _records(since: datetime | None) -> sa.Select:
    # Restricted records never leave in an export (issue 13); the grid's figures still count them.
    query = sa.select(Record).where(Record.restricted.is_(False))
    query = query.order_by(Record.occurred_at, Record.id)
    return query.where(Record.occurred_at >= since) if since else query


def count_rows(since: datetime | None) -> int:
    records = db.session.scalar(sa.select(sa.func.count()).select_from(_records(since).subquery()))
    changes = (
        sa.select(sa.func.count())
        .select_from(Change)
        .where(Change.record_id.not_in(_restricted_ids()))
    )
    if since:
        changes = changes.where(Change.received_at >= since)
    return records + db.session.scalar(changes)


def _record_rows(since: datetime | None, teams: dict[int, str]) -> Iterator[list[dict]]:
    """Records in batches, keyset-paged on (occurred_at, id) so memory stays flat."""
    after: tuple[datetime, str] | None = None
    while True:
        query = _records(since).limit(BATCH)
        if after:
            query = query.where(sa.tuple_(Record.occurred_at, Record.id) > sa.tuple_(*after))
        batch = list(db.session.scalars(query))
        if not batch:
            return
        after = (batch[-1].occurred_at, batch[-1].id)
        yield [
            {
                "id": r.id,
                "team": teams.get(r.team_id, ""),
                "officer_id": r.officer_id,
                "occurred_at": iso(r.occurred_at),
                "kind": r.kind,
                "summary": r.summary,
                "follow_up": r.follow_up,
                "place": r.place,
                "people_count": r.people_count,
                "duration_minutes": r.duration_minutes,
                "publicised_at": iso(r.publicised_at),
                "contact_role": r.contact_role,
                "contact_org": r.contact_org,
                "public": r.public,
                "review_state": r.review_state,
                "deleted": r.deleted,
                "rev": r.rev,
                "created_at": iso(r.created_at),
                "updated_at": iso(r.updated_at),
            }
            for r in batch
        ]
        db.session.expunge_all()


def _codes(model, ids: list[str]) -> list[dict]:
    rows = db.session.execute(
        sa.select(model.record_id, model.code).where(model.record_id.in_(ids))
    )
    return [{"record_id": record_id, "code": code} for record_id, code in rows]


def _restricted_ids() -> sa.Select:
    return sa.select(Record.id).where(Record.restricted.is_(True))


def _changes(since: datetime | None) -> Iterator[list[dict]]:
    last = 0
    while True:
        query = (
            sa.select(Change)
            .where(Change.id > last, Change.record_id.not_in(_restricted_ids()))
            .order_by(Change.id)
            .limit(BATCH)
        )
        if since:
            query = query.where(Change.received_at >= since)
        batch = list(db.session.scalars(query))
        if not batch:
            return
        last = batch[-1].id
        yield [
            {
                "id": c.id,
                "record_id": c.record_id,
                "op": c.op,
                "status": c.status,
                "hlc": c.hlc,
                "effective_hlc": c.effective_hlc,
                "base_rev": c.base_rev,
                "rev": c.rev,
                "seq": c.seq,
                "data": c.data,
                "errors": c.errors,
                "conflicts": c.conflicts,
                "user_id": c.user_id,
                "device_id": c.device_id,
                "batch_id": c.batch_id,
                "occurred_at": iso(c.occurred_at),
                "device_time": c.device_time,
                "received_at": iso(c.received_at),
            }
            for c in batch
        ]
        db.session.expunge_all()


def assessed_periods(since: datetime | None, now: datetime) -> list[Period]:
    """Every month and quarter from `since` (or the first record) to now that can be judged."""
    tz = catalogues().current.tz
    first = since or db.session.scalar(sa.select(sa.func.min(Record.occurred_at)))
    if first is None:
        return []
    start = max(first.date(), catalogues().versions[0].effective_from)
    periods: list[Period] = []
    for kind in ("month", "quarter"):
        period = containing(start, kind, tz)
        while not period.is_future(now):
            periods.append(period)
            period = period.next()
    return periods


def _assessment_rows(periods: list[Period], teams: list[Team], now: datetime):
    standards, measures, grades = [], [], []
    for period in periods:
        try:
            result = assess(period, teams, now)
        except AssessmentError:
            continue
        for team in result.teams:
            base = {"period": period.label, "period_kind": period.kind, "team": team.team.code}
            grades.append(
                {
                    **base,
                    "grade": team.grade["grade"],
                    "catalogue_version": result.catalogue.version,
                    **team.counts,
                }
            )
            for s in team.standards:
                standards.append(
                    {
                        **base,
                        "standard": s.code,
                        "rating": s.rating,
                        "figure": s.headline.text,
                        "value": s.headline.figure.value,
                    }
                )
                for m in s.measures:
                    measures.append(
                        {
                            **base,
                            "standard": s.code,
                            "measure": m.index,
                            "type": m.measure["type"],
                            "label": m.measure["label"],
                            "value": m.figure.value,
                            "numerator": m.figure.numerator,
                            "denominator": m.figure.denominator,
                            "met": m.limits.met,
                            "partly_met": m.limits.partly_met,
                            "rating": m.rating,
                        }
                    )
    return standards, measures, grades


def _grid_views(out: sqlite_utils.Database, codes: list[str]) -> None:
    ratings = ", ".join(
        f"max(case when standard = '{c}' then rating end) as \"{c}\"" for c in codes
    )
    figures = ", ".join(
        f"max(case when standard = '{c}' then figure end) as \"{c}\"" for c in codes
    )
    join = (
        "from assessments a join grades g on g.period = a.period and g.team = a.team "
        "group by a.period, a.period_kind, a.team, g.grade"
    )
    out.create_view(
        "grid", f"select a.period, a.period_kind, a.team, g.grade, {ratings} {join}", replace=True
    )
    out.create_view(
        "grid_figures",
        f"select a.period, a.period_kind, a.team, g.grade, {figures} {join}",
        replace=True,
    )


def export_sqlite(
    path: Path,
    since: date | None = None,
    progress: Progress = lambda n: None,
    now: datetime | None = None,
) -> dict:
    """Write the export to `path` (which must not exist); returns row counts per table."""
    record_codes.catch_up()  # first, as it commits: record_standards and _groups copy them
    now = now or utcnow()
    since_at = datetime.combine(since, datetime.min.time()) if since else None
    out = sqlite_utils.Database(path)
    out.conn.execute("PRAGMA journal_mode=WAL")
    teams = list(db.session.scalars(sa.select(Team).order_by(Team.code)))
    team_codes = {t.id: t.code for t in teams}
    out["teams"].insert_all(
        [
            {"id": t.id, "code": t.code, "name": t.name, "area": t.area, "active": t.active}
            for t in teams
        ],
        pk="id",
    )
    out["people"].insert_all(
        [
            {
                "id": u.id,
                "username": u.username,
                "display_name": u.display_name,
                "role": u.role,
                "team": team_codes.get(u.team_id),
                "active": u.active,
            }
            for u in db.session.scalars(sa.select(User).order_by(User.id))
        ],
        pk="id",
    )
    counts = {"records": 0, "changes": 0}
    records = out.table("records", pk="id", foreign_keys=[("officer_id", "people", "id")])
    for batch in _record_rows(since_at, team_codes):
        ids = [r["id"] for r in batch]
        with out.conn:
            records.insert_all(batch, pk="id", batch_size=1000)
            out["record_standards"].insert_all(
                _codes(RecordStandard, ids), pk=("record_id", "code")
            )
            out["record_groups"].insert_all(_codes(RecordGroup, ids), pk=("record_id", "code"))
        counts["records"] += len(batch)
        progress(len(batch))
    for batch in _changes(since_at):
        with out.conn:
            out["changes"].insert_all(batch, pk="id", batch_size=1000)
        counts["changes"] += len(batch)
        progress(len(batch))
    if counts["records"]:
        records.enable_fts(["summary", "follow_up"], create_triggers=True)
        for name, columns in (
            ("records", ["team", "occurred_at"]),
            ("records", ["kind", "occurred_at"]),
            ("record_standards", ["code"]),
            ("record_groups", ["code"]),
        ):
            if out[name].exists():  # no table when no record had a group (or a standard)
                out[name].create_index(columns, if_not_exists=True)
    standards, measures, grades = _assessment_rows(assessed_periods(since_at, now), teams, now)
    out["assessments"].insert_all(standards, pk=("period", "team", "standard"))
    out["assessment_measures"].insert_all(measures, pk=("period", "team", "standard", "measure"))
    out["grades"].insert_all(grades, pk=("period", "team"))
    if standards:
        _grid_views(
            out,
            sorted(
                {row["standard"] for row in standards},
                key=[c for v in catalogues().versions for c in v.codes].index,
            ),
        )
    counts.update(assessments=len(standards), grades=len(grades))
    out.close()
    return counts
