"""The measure types, each implemented once as SQL aggregates over every team in one go.

`compute(scope, measures)` returns, for each measure, {team_id: Figure}. The reference path reads
assessment_fact (facts.py): counts, shares of meetings publicised and mean attendance come from
ONE grouped scan of the period (SQL sums per team, officer, kind and standards, which each
measure adds up); distinct groups take one more grouped scan; longest gap and key contacts read
one kind's series. When the period is whole months (scope.rollups), the same figures come from
the monthly rollups (rollup.py): one row per team of conditional sums, and small reads for
groups, gaps and contacts; a `*_rollup` function returns None when its rollup cannot answer a
measure exactly, and the facts answer it. Days since the last record is a backwards index walk
per team either way. The priority loop's two shares read the teams' local priorities and the
records linked to them (loop.py), the same on every path. Every figure's `value` is what the
thresholds judge; numerator/denominator and detail say how it was made.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.sql.expression import ColumnElement

from schema.catalogue import LOOP_TYPES
from server.assessment import loop
from server.assessment.periods import _add_months
from server.assessment.rollup import MonthContact, MonthGroup, MonthOfficer, month_bounds, month_of
from server.assessment.rollup import MonthSeries as Series
from server.assessment.rollup import MonthTotal as Month
from server.assessment.sql import Scope, has_bits, seconds_between, selects, where_selected
from server.db import db
from server.db.models import AssessmentFact as Fact
from server.db.models import Team

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


def run(query, params: dict | None = None):
    """Core execution: these are plain column selects, so the ORM's row loading is overhead."""
    return db.session.connection().execute(query, params)


_STATEMENTS: dict = {}


def statement(key: tuple, build):
    """The statement for `key`, built once: building a select of twenty CASE sums and working
    out its cache key costs more than running it over the rollups. What varies between calls
    (teams, months, times) is bound at execution; the key holds everything else."""
    found = _STATEMENTS.get(key)
    if found is None:
        if len(_STATEMENTS) > 500:
            _STATEMENTS.clear()
        found = _STATEMENTS[key] = build()
    return found


def shape(scope: Scope, measures) -> tuple:
    """What a statement built for these measures depends on besides its bound values."""
    return (
        db.engine.dialect.name,
        bool(scope.catalogue.returned_records_count),
        tuple(sorted(scope.standard_bits.items())),
        json.dumps(list(measures), sort_keys=True, default=str),
    )


def bound(scope: Scope) -> dict:
    return {
        "teams": list(scope.teams),
        "start": scope.period.start,
        "end": scope.period.end,
        "as_of": scope.as_of,
    }


def notice_column(min_days: float):
    """1 for a meeting publicised at least min_days ahead (to the second), else 0."""
    return sa.func.coalesce(
        sa.func.sum(sa.case((Fact.notice_seconds >= round(min_days * DAY), 1), else_=0)), 0
    )


def _notice_days(items: list[tuple[int, dict]]) -> list[float]:
    return sorted({m["min_days"] for _, m in items if m["type"] == "share_publicised"})


def _scan(scope: Scope, items: list[tuple[int, dict]]) -> dict[int, dict[int, Figure]]:
    """One grouped scan of the period for every count, share-publicised and mean-people measure."""
    notices = _notice_days(items)
    query = (
        sa.select(
            Fact.team_id,
            Fact.officer_id,
            Fact.kind,
            Fact.std_mask,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(Fact.people_count), 0),
            sa.func.count(Fact.people_count),
            *[notice_column(days) for days in notices],
        )
        .where(*scope.counted(), *scope.in_period())
        .group_by(Fact.team_id, Fact.officer_id, Fact.kind, Fact.std_mask)
    )
    officers: dict[int, set[int]] = defaultdict(set)
    rows = []
    for team, officer, *row in run(query):
        officers[team].add(officer)
        rows.append((team, *row))
    return _add_up(scope, items, notices, rows, officers)


def _whole_days(notices: list[float]) -> list[int] | None:
    """Thresholds as whole days (what the monthly rollup's notice_day can answer), else None."""
    exact = [round(days * DAY) for days in notices]
    if any(s < 0 or s % DAY for s in exact):
        return None
    return [s // DAY for s in exact]


def _scan_rollup(
    scope: Scope, items: list[tuple[int, dict]]
) -> dict[int, dict[int, Figure]] | None:
    """_scan from assessment_month: every measure's sums added up in SQL, one row per team."""
    if _whole_days(_notice_days(items)) is None:
        return None

    def total(column, *where):
        where = [w for w in where if w is not None]
        summed = sa.case((sa.and_(*where), column), else_=0) if where else column
        return sa.func.coalesce(sa.func.sum(summed), 0)

    def build():
        columns = []
        for _, measure in items:
            chosen = selects(measure, scope, Month)
            if measure["type"] == "mean_people":
                columns += [total(Month.people_sum, chosen), total(Month.people_n, chosen)]
            elif measure["type"] == "share_publicised":
                ahead = Month.notice_day >= round(measure["min_days"] * DAY) // DAY
                columns += [total(Month.records, chosen, ahead), total(Month.records, chosen)]
            else:
                columns += [total(Month.records, chosen)]
        return (
            sa.select(Month.team_id, *columns).where(*_months(Month, scope)).group_by(Month.team_id)
        )

    query = statement(("scan", *shape(scope, [m for _, m in items])), build)
    sums = {team: [int(v) for v in values] for team, *values in run(query, bound(scope))}
    width = len(query.selected_columns) - 1
    officers: dict[int, set[int]] = defaultdict(set)
    query = statement(
        ("officers", *shape(scope, [])),
        lambda: sa.select(MonthOfficer.team_id, MonthOfficer.officer_id).where(
            *_months(MonthOfficer, scope)
        ),
    )
    for team, officer in run(query, bound(scope)):
        officers[team].add(officer)
    results: dict[int, dict[int, Figure]] = {index: {} for index, _ in items}
    for team in scope.teams:
        values = iter(sums.get(team, [0] * width))
        for index, measure in items:
            records = people = counted = publicised = 0
            if measure["type"] == "mean_people":
                people, counted = next(values), next(values)
            elif measure["type"] == "share_publicised":
                publicised, records = next(values), next(values)
            else:
                records = next(values)
            results[index][team] = _scanned(
                scope, measure, team, officers, records, people, counted, publicised
            )
    return results


TEAMS = sa.bindparam("teams", expanding=True)
START, END = sa.bindparam("start", type_=sa.Date), sa.bindparam("end", type_=sa.Date)
AS_OF = sa.bindparam("as_of", type_=sa.DateTime)


def _months(model, scope: Scope) -> list:
    """A rollup's rows that count, for the scope's teams and the period's months (bound)."""
    conditions = [model.team_id.in_(TEAMS), model.month >= START, model.month < END]
    if not scope.catalogue.returned_records_count:
        conditions.append(model.returned == sa.false())
    return conditions


def _add_up(scope, items, notices, rows, officers) -> dict[int, dict[int, Figure]]:
    """Figures from rows of (team, kind, standards, records, people, records with people,
    publicised for each of `notices`...), any number of rows per (team, kind, standards)."""
    # totals[team][measure index] = [records, people, records with people, publicised]
    totals: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0, 0]))
    chosen: dict[tuple[str, int], list[tuple[int, dict]]] = {}
    for team, kind, standards, records, people, counted, *publicised in rows:
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
    return {
        index: {
            team: _scanned(
                scope, measure, team, officers, *totals.get(team, {}).get(index, [0, 0, 0, 0])
            )
            for team in scope.teams
        }
        for index, measure in items
    }


def _scanned(scope, measure, team, officers, records, people, counted, publicised) -> Figure:
    """A count, share-publicised or mean-people figure from its sums."""
    if measure["type"] == "count" and measure.get("per") == "officer":
        staff = len(officers.get(team, set()) | scope.officers.get(team, set()))
        return Figure(records / staff if staff else None, records, staff)
    if measure["type"] == "count":
        return Figure(records, records)
    if measure["type"] == "share_publicised":
        return Figure(publicised / records if records else None, publicised, records)
    return Figure(people / counted if counted else None, people, counted)


def _distinct_groups(scope: Scope, measure: dict) -> dict[int, Figure]:
    """Groups reached: one row per team and combination of groups, ORed together here."""
    keys = [Fact.team_id, Fact.group_mask]
    query = (
        sa.select(*keys, sa.func.count())
        .where(
            *scope.counted(),
            *scope.in_period(),
            *where_selected(measure, scope),
            Fact.group_mask != 0,
        )
        .group_by(*keys)
    )
    wanted = scope.seldom_heard if measure.get("seldom_heard_only") else None
    reached: dict[int, dict[str, int]] = defaultdict(dict)
    for team, groups, records in run(query):
        for code in scope.groups_in(groups):
            if wanted is None or code in wanted:
                reached[team][code] = reached[team].get(code, 0) + records
    return {
        team: Figure(len(reached[team]), detail={"groups": dict(sorted(reached[team].items()))})
        for team in scope.teams
    }


def _distinct_groups_rollup(scope: Scope, measure: dict) -> dict[int, Figure] | None:
    """_distinct_groups from assessment_month_group, which has no kinds or standards."""
    if measure.get("kinds") or measure.get("standards"):
        return None
    code_of = {bit: code for code, bit in scope.group_bits.items()}
    wanted = scope.seldom_heard if measure.get("seldom_heard_only") else None
    query = statement(
        ("groups", *shape(scope, [])),
        lambda: (
            sa.select(MonthGroup.team_id, MonthGroup.bit, sa.func.sum(MonthGroup.records))
            .where(*_months(MonthGroup, scope))
            .group_by(MonthGroup.team_id, MonthGroup.bit)
        ),
    )
    reached: dict[int, dict[str, int]] = defaultdict(dict)
    for team, bit, records in run(query, bound(scope)):
        code = code_of.get(bit)
        if code is not None and (wanted is None or code in wanted):
            reached[team][code] = int(records)
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
    found = (scope.rollups and _gaps_rollup(scope, measure)) or _gaps(scope, measure)
    start = scope.period.start_utc
    results = {}
    for team in scope.teams:
        if team not in found:
            gap = max(seconds(scope.as_of, start), 0)
            results[team] = Figure(
                gap / DAY, detail={"records": 0, "from": start, "to": scope.as_of}
            )
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


def _gaps(scope: Scope, measure: dict) -> dict[int, tuple]:
    """team -> (longest gap between two records in seconds, first, last, records), from facts."""
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
    return {row[0]: row[1:] for row in run(query)}


def _gaps_rollup(scope: Scope, measure: dict) -> dict[int, tuple] | None:
    """_gaps from assessment_month_series: the longest gap inside a month, or from one month's
    last record to the next month's first. One kind, no standards, and no record after the
    as-of time (a running period may have some), or None."""
    kinds = measure.get("kinds") or []
    if len(kinds) != 1 or measure.get("standards"):
        return None

    def build():
        rows = (
            sa.select(
                Series.team_id.label("team_id"),
                Series.records.label("records"),
                Series.first_at.label("first_at"),
                Series.last_at.label("last_at"),
                Series.inner_gap.label("inner_gap"),
                sa.func.lag(Series.last_at)
                .over(partition_by=Series.team_id, order_by=Series.month)
                .label("prev"),
            )
            .where(
                Series.team_id.in_(TEAMS),
                Series.month >= START,
                Series.month < END,
                Series.kind == kinds[0],
                Series.with_returned == bool(scope.catalogue.returned_records_count),
            )
            .subquery()
        )
        return sa.select(
            rows.c.team_id,
            sa.func.max(rows.c.inner_gap),
            sa.func.max(seconds_between(rows.c.first_at, rows.c.prev)),
            sa.func.min(rows.c.first_at),
            sa.func.max(rows.c.last_at),
            sa.func.sum(rows.c.records),
        ).group_by(rows.c.team_id)

    query = statement(("gaps", *shape(scope, [measure])), build)
    found = {}
    for team, inner, across, first, last, records in run(query, bound(scope)):
        if last >= scope.as_of:
            return None
        gaps = [g for g in (inner, across) if g is not None]
        found[team] = (max(gaps) if gaps else None, first, last, int(records))
    return found


def _latest(scope: Scope, measure: dict) -> list:
    """Scalar subqueries, one per kind (or one with no kinds), for a team's latest record of the
    measure up to the as-of time: each a short backwards walk of an index led by (team, kind)
    or (team, time), not a scan of every such record ever made."""
    counted = [Fact.deleted == sa.false()]
    if not scope.catalogue.returned_records_count:
        counted.append(Fact.review_state != "returned")
    found = []
    for kind in measure.get("kinds") or [None]:
        where = [*counted, Fact.team_id == Team.id, Fact.occurred_at < AS_OF]
        if kind is not None:
            where.append(Fact.kind == kind)
        if measure.get("standards"):
            where.append(has_bits(Fact.std_mask, scope.standard_mask(measure["standards"])))
        found.append(
            sa.select(Fact.occurred_at)
            .where(*where)
            .order_by(Fact.occurred_at.desc())
            .limit(1)
            .scalar_subquery()
        )
    return found


def _days_since_last(scope: Scope, items: list[tuple[int, dict]]) -> dict[int, dict[int, Figure]]:
    """Days from each measure's latest record (up to the as-of time) to the as-of time; one
    query for all of them."""
    widths = [len(measure.get("kinds") or [None]) for _, measure in items]
    query = statement(
        ("latest", *shape(scope, [m for _, m in items])),
        lambda: sa.select(
            Team.id, *[q for _, measure in items for q in _latest(scope, measure)]
        ).where(Team.id.in_(TEAMS)),
    )
    found = {}
    for team, *times in run(query, bound(scope)):
        position = 0
        for (index, _), width in zip(items, widths):
            seen = [t for t in times[position : position + width] if t is not None]
            found[index, team] = max(seen) if seen else None
            position += width
    results = {}
    for index, _ in items:
        results[index] = {}
        for team in scope.teams:
            last = found.get((index, team))
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
    return _renewed_shares(scope, query)


def _renewed_shares(scope: Scope, query: sa.Select) -> dict[int, Figure]:
    """Each team's share renewed, from a query of (team, contacts known, contacts renewed)."""
    found = {team: (known, int(done or 0)) for team, known, done in run(query)}
    results = {}
    for team in scope.teams:
        known, done = found.get(team, (0, 0))
        results[team] = Figure(done / known if known else None, done, known)
    return results


def _in_window(since: datetime, until: datetime, tz) -> ColumnElement[bool] | None:
    """Rollup rows (team, month, contact...) holding a record in [since, until), judged from the
    rows' first and last times: exact unless both edges fall inside one month (then None)."""
    if since >= until:
        return sa.false()
    whole, edges = [], []
    month = month_of(since, tz)
    while True:
        start, end = month_bounds(month, tz)
        if start >= until:
            break
        if start >= since and end <= until:
            whole.append(month)
        elif end <= until:  # the month holds `since`: all its records are before `until`
            edges.append(sa.and_(MonthContact.month == month, MonthContact.last_at >= since))
        elif start >= since:  # the month holds `until`: all its records are after `since`
            edges.append(sa.and_(MonthContact.month == month, MonthContact.first_at < until))
        else:
            return None
        month = _add_months(month, 1)
    if whole:  # consecutive months: a range is cheaper to test than a list
        edges.append(MonthContact.month.between(whole[0], whole[-1]))
    return sa.or_(*edges) if edges else sa.false()


def _share_renewed_rollup(scope: Scope, measure: dict) -> dict[int, Figure] | None:
    """_share_renewed from assessment_month_contact: a contact is known when a month row shows a
    meeting in the lookback window, renewed when one shows a meeting in the last N days."""
    known_since, renewed_since = renewal_window(scope, measure)
    tz = scope.period.tz
    known = _in_window(known_since, scope.as_of, tz)
    renewed = _in_window(max(known_since, renewed_since), scope.as_of, tz)
    if known is None or renewed is None:
        return None
    contacts = (
        sa.select(
            MonthContact.team_id.label("team_id"),
            sa.func.max(sa.case((renewed, 1), else_=0)).label("done"),
        )
        .where(
            MonthContact.team_id.in_(scope.teams),
            MonthContact.month >= month_of(known_since, tz),
            MonthContact.month <= month_of(scope.as_of, tz),
            *where_selected(measure, scope, MonthContact),
            known,
        )
        .group_by(MonthContact.team_id, MonthContact.role_key, MonthContact.org_key)
    )
    if not scope.catalogue.returned_records_count:
        contacts = contacts.where(MonthContact.returned == sa.false())
    contacts = contacts.subquery()
    query = sa.select(contacts.c.team_id, sa.func.count(), sa.func.sum(contacts.c.done)).group_by(
        contacts.c.team_id
    )
    return _renewed_shares(scope, query)


def compute(scope: Scope, measures: list[dict]) -> list[dict[int, Figure]]:
    """Each measure's figure for every team in scope, in the order given."""
    results: dict[int, dict[int, Figure]] = {}
    scanned = [(i, m) for i, m in enumerate(measures) if m["type"] in SCANNED]
    if scanned:
        results.update((scope.rollups and _scan_rollup(scope, scanned)) or _scan(scope, scanned))
    # The loop's shares read the team's priorities, not the facts: the same on every path.
    looped = [(i, m) for i, m in enumerate(measures) if m["type"] in LOOP_TYPES]
    if looped:
        for index, teams in loop.shares(scope, looped).items():
            results[index] = {
                team: Figure(done / due if due else None, done, due)
                for team, (done, due) in teams.items()
            }
    latest = [(i, m) for i, m in enumerate(measures) if m["type"] == "days_since_last"]
    if latest:
        results.update(_days_since_last(scope, latest))
    single = {
        "distinct_groups": _distinct_groups,
        "longest_gap_days": _longest_gap,
        "share_renewed": _share_renewed,
    }
    rolled = {"distinct_groups": _distinct_groups_rollup, "share_renewed": _share_renewed_rollup}
    for index, measure in enumerate(measures):
        if measure["type"] in single:
            fast = rolled.get(measure["type"]) if scope.rollups else None
            figures = fast(scope, measure) if fast else None
            results[index] = (
                figures if figures is not None else single[measure["type"]](scope, measure)
            )
    return [results[i] for i in range(len(measures))]
