"""The measure types, each implemented once as SQL aggregates over every team in one go.

`compute(scope, measures)` returns, for each measure, {team_id: Figure}. Counts, shares of
meetings publicised and mean attendance come from ONE grouped scan of the period's records
(each measure a SUM(CASE ...) column); the other types need a query each, over few rows and
indexed columns. Every figure's `value` is what the thresholds judge; numerator/denominator
and detail say how it was made.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from server.assessment.sql import Scope, case_sum, seconds_between, selects, where_selected
from server.extensions import db
from server.models import Record, RecordGroup

DAY = 86_400
SCANNED = ("count", "share_publicised", "mean_people")


@dataclass
class Figure:
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    detail: dict = field(default_factory=dict)


def seconds(later: datetime, earlier: datetime) -> int:
    return round((later - earlier).total_seconds())


def _publicised_in_time(measure: dict):
    return sa.and_(
        Record.publicised_at.is_not(None),
        seconds_between(Record.occurred_at, Record.publicised_at) >= measure["min_days"] * DAY,
    )


def _scan_columns(measure: dict) -> list:
    """The SUM(CASE ...) columns one measure needs from the shared scan."""
    chosen = selects(measure)
    kind = measure["type"]
    if kind == "count":
        return [case_sum(chosen)]
    if kind == "share_publicised":
        good = _publicised_in_time(measure)
        return [case_sum(chosen), case_sum(good if chosen is None else sa.and_(chosen, good))]
    has_people = Record.people_count.is_not(None)
    return [
        case_sum(has_people if chosen is None else sa.and_(chosen, has_people)),
        case_sum(chosen, Record.people_count),
    ]


def _scan_figure(measure: dict, sums: list[int], officers: int) -> Figure:
    kind = measure["type"]
    if kind == "count":
        (counted,) = sums
        if measure.get("per") == "officer":
            value = counted / officers if officers else None
            return Figure(value, counted, officers)
        return Figure(counted, counted)
    if kind == "share_publicised":
        meetings, publicised = sums
        return Figure(publicised / meetings if meetings else None, publicised, meetings)
    with_people, people = sums
    return Figure(people / with_people if with_people else None, people, with_people)


def _scan(scope: Scope, items: list[tuple[int, dict]]) -> dict[int, dict[int, Figure]]:
    """One grouped scan of the period's counted records for every scanned measure."""
    columns, spans = [], []
    for _, measure in items:
        made = _scan_columns(measure)
        spans.append((len(columns), len(columns) + len(made)))
        columns.extend(made)
    query = (
        sa.select(Record.team_id, Record.officer_id, *columns)
        .where(*scope.counted(), *scope.in_period())
        .group_by(Record.team_id, Record.officer_id)
    )
    totals: dict[int, list[int]] = defaultdict(lambda: [0] * len(columns))
    officers: dict[int, set[int]] = defaultdict(set)
    for team_id, officer_id, *sums in db.session.execute(query):
        row = totals[team_id]
        for i, value in enumerate(sums):
            row[i] += int(value or 0)
        officers[team_id].add(officer_id)
    results: dict[int, dict[int, Figure]] = {}
    for (index, measure), (a, b) in zip(items, spans):
        results[index] = {
            team: _scan_figure(
                measure, totals[team][a:b] if team in totals else [0] * (b - a),
                len(officers.get(team, set()) | scope.officers.get(team, set())),
            )
            for team in scope.teams
        }
    return results


def _distinct_groups(scope: Scope, measure: dict) -> dict[int, Figure]:
    # Every group is fetched and the seldom-heard ones kept here: a code IN (...) filter in SQL
    # makes SQLite probe record_group once per code for every record instead of once.
    query = (
        sa.select(Record.team_id, RecordGroup.code, sa.func.count())
        .join(RecordGroup, RecordGroup.record_id == Record.id)
        .where(*scope.counted(), *scope.in_period(), *where_selected(measure))
        .group_by(Record.team_id, RecordGroup.code)
    )
    wanted = scope.seldom_heard if measure.get("seldom_heard_only") else None
    reached: dict[int, dict[str, int]] = defaultdict(dict)
    for team_id, code, records in db.session.execute(query):
        if wanted is None or code in wanted:
            reached[team_id][code] = records
    return {
        team: Figure(len(reached[team]), detail={"groups": dict(sorted(reached[team].items()))})
        for team in scope.teams
    }


def _longest_gap(scope: Scope, measure: dict) -> dict[int, Figure]:
    """The longest stretch of the period (to now, while it runs) without a record: period start
    to the first, between records, and the last to the period's end."""
    points = (
        sa.select(
            Record.team_id.label("team_id"),
            Record.occurred_at.label("t"),
            sa.func.lag(Record.occurred_at)
            .over(partition_by=Record.team_id, order_by=Record.occurred_at)
            .label("prev"),
        )
        .where(*scope.counted(), *scope.in_period(), *where_selected(measure))
        .where(Record.occurred_at < scope.as_of)
        .subquery()
    )
    query = sa.select(
        points.c.team_id,
        sa.func.max(seconds_between(points.c.t, points.c.prev)),
        sa.func.min(points.c.t),
        sa.func.max(points.c.t),
        sa.func.count(),
    ).group_by(points.c.team_id)
    found = {row[0]: row[1:] for row in db.session.execute(query)}
    start = scope.period.start_utc
    results = {}
    for team in scope.teams:
        if team not in found:
            gap = max(seconds(scope.as_of, start), 0)
            results[team] = Figure(gap / DAY, detail={"records": 0, "from": start, "to": scope.as_of})
            continue
        between, first, last, count = found[team]
        edges = [
            (int(between or 0), None, None),
            (seconds(first, start), start, first),
            (seconds(scope.as_of, last), last, scope.as_of),
        ]
        gap, gap_from, gap_to = max(edges, key=lambda e: e[0])
        results[team] = Figure(
            gap / DAY, detail={"records": count, "from": gap_from, "to": gap_to}
        )
    return results


def _days_since_last(scope: Scope, items: list[tuple[int, dict]]) -> dict[int, dict[int, Figure]]:
    """One query for every days-since measure: the latest record of each, up to the as-of time."""
    chosen = [selects(measure) for _, measure in items]
    query = (
        sa.select(
            Record.team_id,
            *[sa.func.max(sa.case((c, Record.occurred_at), else_=None)) for c in chosen],
        )
        .where(*scope.counted(), Record.occurred_at < scope.as_of, sa.or_(*chosen))
        .group_by(Record.team_id)
    )
    latest = {row[0]: row[1:] for row in db.session.execute(query)}
    results = {}
    for position, (index, _) in enumerate(items):
        results[index] = {}
        for team in scope.teams:
            last = latest.get(team, [None] * len(items))[position]
            if isinstance(last, str):  # SQLite hands back MAX(CASE ...) untyped
                last = datetime.fromisoformat(last)
            value = seconds(scope.as_of, last) / DAY if last else None
            results[index][team] = Figure(value, detail={"last": last})
    return results


def contact_key():
    """A key contact is known by role and organisation, compared without case or edge spaces."""
    return (
        sa.func.lower(sa.func.trim(Record.contact_role)),
        sa.func.lower(sa.func.trim(Record.contact_org)),
    )


def renewal_window(scope: Scope, measure: dict) -> tuple[datetime, datetime]:
    from datetime import timedelta

    known_since = scope.as_of - timedelta(days=measure["lookback_days"])
    renewed_since = scope.as_of - timedelta(days=measure["within_days"])
    return known_since, renewed_since


def known_contacts(scope: Scope, measure: dict) -> list:
    known_since, _ = renewal_window(scope, measure)
    return [
        *scope.counted(),
        *where_selected(measure),
        Record.occurred_at >= known_since,
        Record.occurred_at < scope.as_of,
        sa.or_(sa.func.trim(Record.contact_role) != "", sa.func.trim(Record.contact_org) != ""),
    ]


def _share_renewed(scope: Scope, measure: dict) -> dict[int, Figure]:
    """Of the key contacts the team knew in the lookback window, the share met within N days."""
    _, renewed_since = renewal_window(scope, measure)
    role, org = contact_key()
    contacts = (
        sa.select(Record.team_id.label("team_id"), sa.func.max(Record.occurred_at).label("last"))
        .where(*known_contacts(scope, measure))
        .group_by(Record.team_id, role, org)
        .subquery()
    )
    renewed = sa.case((contacts.c.last >= renewed_since, 1), else_=0)
    query = sa.select(
        contacts.c.team_id, sa.func.count(), sa.func.coalesce(sa.func.sum(renewed), 0)
    ).group_by(contacts.c.team_id)
    found = {team: (known, int(done)) for team, known, done in db.session.execute(query)}
    results = {}
    for team in scope.teams:
        known, done = found.get(team, (0, 0))
        results[team] = Figure(done / known if known else None, done, known)
    return results


def compute(scope: Scope, measures: list[dict]) -> list[dict[int, Figure]]:
    """Each measure's figure for every team in scope, in the order given."""
    results: dict[int, dict[int, Figure]] = {}
    scanned = [(i, m) for i, m in enumerate(measures) if m["type"] in SCANNED]
    if scanned:
        results.update(_scan(scope, scanned))
    latest = [(i, m) for i, m in enumerate(measures) if m["type"] == "days_since_last"]
    if latest:
        results.update(_days_since_last(scope, latest))
    single = {
        "distinct_groups": _distinct_groups,
        "longest_gap_days": _longest_gap,
        "share_renewed": _share_renewed,
    }
    for index, measure in enumerate(measures):
        if measure["type"] in single:
            results[index] = single[measure["type"]](scope, measure)
    return [results[i] for i in range(len(measures))]
