"""The measure types, each implemented once as SQL aggregates over every team in one go.

`compute(scope, measures)` returns, for each measure, {team_id: Figure}. Everything reads
assessment_fact (facts.py). Counts, shares of meetings publicised and mean attendance come from
ONE grouped scan of the period: SQL sums per (team, officer, kind, standards) and each measure
adds up the groups it selects. Distinct groups take one more grouped scan; days since the last,
longest gap and key contacts read one kind's series through an index. Every figure's `value` is
what the thresholds judge; numerator/denominator and detail say how it was made.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from server.assessment.sql import Scope, seconds_between, selects, where_selected
from server.extensions import db
from server.models import AssessmentFact as Fact

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


def notice_column(min_days: float):
    """1 for a meeting publicised at least min_days ahead (to the second), else 0."""
    return sa.func.coalesce(
        sa.func.sum(sa.case((Fact.notice_seconds >= round(min_days * DAY), 1), else_=0)), 0)


def _scan(scope: Scope, items: list[tuple[int, dict]]) -> dict[int, dict[int, Figure]]:
    """One grouped scan of the period for every count, share-publicised and mean-people measure."""
    notices = sorted({m["min_days"] for _, m in items if m["type"] == "share_publicised"})
    query = (
        sa.select(
            Fact.team_id, Fact.officer_id, Fact.kind, Fact.std_mask, sa.func.count(),
            sa.func.coalesce(sa.func.sum(Fact.people_count), 0), sa.func.count(Fact.people_count),
            *[notice_column(days) for days in notices],
        )
        .where(*scope.counted(), *scope.in_period())
        .group_by(Fact.team_id, Fact.officer_id, Fact.kind, Fact.std_mask)
    )
    # totals[team][measure index] = [records, people, records with people, publicised]
    totals: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0, 0]))
    officers: dict[int, set[int]] = defaultdict(set)
    chosen: dict[tuple[str, int], list[tuple[int, dict]]] = {}
    for team, officer, kind, standards, records, people, counted, *publicised in db.session.execute(query):
        officers[team].add(officer)
        key = (kind, standards)
        if key not in chosen:
            chosen[key] = [(i, m) for i, m in items if scope.matches(m, kind, standards)]
        for index, measure in chosen[key]:
            row = totals[team][index]
            row[0] += records
            row[1] += int(people)
            row[2] += counted
            if measure["type"] == "share_publicised":
                row[3] += int(publicised[notices.index(measure["min_days"])])
    results: dict[int, dict[int, Figure]] = {}
    for index, measure in items:
        results[index] = {}
        for team in scope.teams:
            records, people, counted, publicised = totals.get(team, {}).get(index, [0, 0, 0, 0])
            if measure["type"] == "count" and measure.get("per") == "officer":
                staff = len(officers.get(team, set()) | scope.officers.get(team, set()))
                figure = Figure(records / staff if staff else None, records, staff)
            elif measure["type"] == "count":
                figure = Figure(records, records)
            elif measure["type"] == "share_publicised":
                figure = Figure(publicised / records if records else None, publicised, records)
            else:
                figure = Figure(people / counted if counted else None, people, counted)
            results[index][team] = figure
    return results


def _distinct_groups(scope: Scope, measure: dict) -> dict[int, Figure]:
    """Groups reached: one row per team and combination of groups, ORed together here."""
    keys = [Fact.team_id, Fact.group_mask]
    query = (
        sa.select(*keys, sa.func.count())
        .where(*scope.counted(), *scope.in_period(), *where_selected(measure, scope),
               Fact.group_mask != 0)
        .group_by(*keys)
    )
    wanted = scope.seldom_heard if measure.get("seldom_heard_only") else None
    reached: dict[int, dict[str, int]] = defaultdict(dict)
    for team, groups, records in db.session.execute(query):
        for code in scope.groups_in(groups):
            if wanted is None or code in wanted:
                reached[team][code] = reached[team].get(code, 0) + records
    return {
        team: Figure(len(reached[team]), detail={"groups": dict(sorted(reached[team].items()))})
        for team in scope.teams
    }


def series(scope: Scope, measure: dict) -> list:
    """The measure's records of one kind (or standard) counted and up to the as-of time."""
    return [*scope.counted(), *where_selected(measure, scope), Fact.occurred_at < scope.as_of]


def _longest_gap(scope: Scope, measure: dict) -> dict[int, Figure]:
    """The longest stretch of the period (to now, while it runs) without a record: period start
    to the first, between records, and the last to the period's end."""
    points = (
        sa.select(
            Fact.team_id.label("team_id"),
            Fact.occurred_at.label("t"),
            sa.func.lag(Fact.occurred_at)
            .over(partition_by=Fact.team_id, order_by=Fact.occurred_at)
            .label("prev"),
        )
        .where(*series(scope, measure), *scope.in_period())
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
        results[team] = Figure(gap / DAY, detail={"records": count, "from": gap_from, "to": gap_to})
    return results


def _days_since_last(scope: Scope, items: list[tuple[int, dict]]) -> dict[int, dict[int, Figure]]:
    """One query for every days-since measure: the latest record of each, up to the as-of time."""
    chosen = [selects(measure, scope) for _, measure in items]
    query = (
        sa.select(
            Fact.team_id,
            *[sa.func.max(sa.case((c, Fact.occurred_at), else_=None)) for c in chosen],
        )
        .where(*scope.counted(), Fact.occurred_at < scope.as_of, sa.or_(*chosen))
        .group_by(Fact.team_id)
    )
    latest = {row[0]: row[1:] for row in db.session.execute(query)}
    results = {}
    for position, (index, _) in enumerate(items):
        results[index] = {}
        for team in scope.teams:
            last = latest.get(team, [None] * len(items))[position]
            value = seconds(scope.as_of, last) / DAY if last else None
            results[index][team] = Figure(value, detail={"last": last})
    return results


def contact_key():
    """A key contact is known by role and organisation, compared without case or edge spaces."""
    return (
        sa.func.lower(sa.func.trim(Fact.contact_role)),
        sa.func.lower(sa.func.trim(Fact.contact_org)),
    )


def renewal_window(scope: Scope, measure: dict) -> tuple[datetime, datetime]:
    known_since = scope.as_of - timedelta(days=measure["lookback_days"])
    renewed_since = scope.as_of - timedelta(days=measure["within_days"])
    return known_since, renewed_since


def known_contacts(scope: Scope, measure: dict) -> list:
    known_since, _ = renewal_window(scope, measure)
    return [
        *series(scope, measure),
        Fact.occurred_at >= known_since,
        sa.or_(sa.func.trim(Fact.contact_role) != "", sa.func.trim(Fact.contact_org) != ""),
    ]


def _share_renewed(scope: Scope, measure: dict) -> dict[int, Figure]:
    """Of the key contacts the team knew in the lookback window, the share met within N days."""
    _, renewed_since = renewal_window(scope, measure)
    role, org = contact_key()
    contacts = (
        sa.select(Fact.team_id.label("team_id"), sa.func.max(Fact.occurred_at).label("last"))
        .where(*known_contacts(scope, measure))
        .group_by(Fact.team_id, role, org)
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
