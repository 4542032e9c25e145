"""The assessment of teams x standards for a period: figures, ratings, grades, change.

`assess(period, teams)` runs every measure of the catalogue in force for the period over all the
teams at once (see measures.py) and rates them; `assess_with_previous` adds the period before,
for "change from last period". Periods, catalogues and teams are resolved here too, so the API,
the pages and the CLI agree on what "2026-Q3" means and who may see which team.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from schema.catalogue import Catalogue, CatalogueError
from server.assessment import facts, ratings, rollup
from server.assessment.measures import Figure, compute
from server.assessment.periods import KINDS, Period, PeriodError, containing_moment, parse
from server.assessment.sql import Scope, tune_for_scans
from server.catalogues import catalogues, vocabularies
from server.clock import utcnow
from server.db import db
from server.db.models import AssessmentFact, Team, User


class AssessmentError(ValueError):
    """A period that cannot be assessed, or a team that does not exist or is not visible."""


def force_tz():
    return catalogues().current.tz


def resolve_period(label: str | None, now: datetime | None = None, kind: str = "quarter") -> Period:
    """A period label (default: the current `kind` period) that can be judged now."""
    now = now or utcnow()
    if not label:
        if kind not in KINDS:
            raise AssessmentError(f"Unknown period kind {kind!r}: use one of {', '.join(KINDS)}.")
        return containing_moment(now, kind, force_tz())
    try:
        period = parse(label, force_tz())
    except PeriodError as exc:
        raise AssessmentError(str(exc)) from exc
    if period.is_future(now):
        raise AssessmentError(f"{period.label} has not started yet.")
    catalogue_for(period)
    return period


def catalogue_for(period: Period) -> Catalogue:
    """The catalogue version in force when the period starts."""
    try:
        return catalogues().for_date(period.start)
    except CatalogueError as exc:
        raise AssessmentError(f"{period.label} cannot be assessed: {exc}.") from exc


def visible_teams(user: User | None, code: str | None = None) -> list[Team]:
    """Active teams the user may see (all for admin and panel), or just the one named."""
    query = sa.select(Team).where(Team.active == sa.true()).order_by(Team.code)
    ids = user.team_ids() if user is not None else None
    if ids is not None:
        query = query.where(Team.id.in_(ids or [-1]))
    if code:
        query = query.where(Team.code == code.strip().upper())
    teams = list(db.session.scalars(query))
    if code and not teams:
        if user is None:  # the CLI sees every team
            raise AssessmentError(f"No active team with code {code.strip().upper()}.")
        raise AssessmentError(f"No team {code.upper()} that you can see.")
    return teams


@dataclass
class MeasureResult:
    index: int
    measure: dict
    figure: Figure
    limits: ratings.Thresholds
    rating: str

    @property
    def text(self) -> str:
        f = self.figure
        return ratings.figure_text(self.measure, f.value, f.numerator, f.denominator)

    @property
    def threshold_text(self) -> str:
        return ratings.threshold_text(self.measure, self.limits)


@dataclass
class StandardResult:
    standard: dict
    measures: list[MeasureResult]
    rating: str
    previous: str | None = None

    @property
    def code(self) -> str:
        return self.standard["code"]

    @property
    def headline(self) -> MeasureResult:
        """The measure that decided the rating: the first of the worst."""
        return next(m for m in self.measures if m.rating == self.rating)

    @property
    def change(self) -> str | None:
        return ratings.change(self.rating, self.previous)


@dataclass
class TeamAssessment:
    team: Team
    standards: list[StandardResult]
    grade: dict
    previous_grade: dict | None = None
    grade_change: str | None = None

    @property
    def by_code(self) -> dict[str, StandardResult]:
        return {s.code: s for s in self.standards}

    @property
    def counts(self) -> dict[str, int]:
        found = [s.rating for s in self.standards]
        return {r: found.count(r) for r in ratings.ORDER}


@dataclass
class Assessment:
    period: Period
    catalogue: Catalogue
    as_of: datetime
    teams: list[TeamAssessment]
    previous_period: Period | None = None
    previous_catalogue: Catalogue | None = None
    extra: dict = field(default_factory=dict)
    scope: Scope | None = field(default=None, repr=False, compare=False)

    def team(self, code: str) -> TeamAssessment:
        return next(t for t in self.teams if t.team.code == code)


def officer_roster(team_ids: list[int]) -> dict[int, frozenset[int]]:
    rows = db.session.execute(
        sa.select(User.team_id, User.id).where(
            User.role == "officer", User.active == sa.true(), User.team_id.in_(team_ids)
        )
    )
    roster: dict[int, set[int]] = {}
    for team_id, user_id in rows:
        roster.setdefault(team_id, set()).add(user_id)
    return {team: frozenset(ids) for team, ids in roster.items()}


def scope_for(
    period: Period, teams: list[Team], now: datetime | None = None, like: Scope | None = None
) -> Scope:
    """What assessing `period` for `teams` counts. `like`, a scope made moments ago for the
    same teams (the period before, a team's earlier quarters), lends its freshly refreshed
    facts, code bits and roster, none of which depend on the period."""
    ids = tuple(t.id for t in teams)
    catalogue = catalogue_for(period)
    if like is not None and like.teams == ids:
        bits, roster = {"standard": like.standard_bits, "group": like.group_bits}, like.officers
    else:
        facts.catch_up()
        tune_for_scans()
        bits, roster = facts.all_bits(), officer_roster(list(ids))
    return Scope(
        period=period,
        as_of=period.as_of(now or utcnow()),
        catalogue=catalogue,
        teams=ids,
        seldom_heard=vocabularies().seldom_heard,
        officers=roster,
        standard_bits=bits["standard"],
        group_bits=bits["group"],
        # refresh() leaves the rollups built for the current catalogue's zone
        rollups=rollup.covers(period, force_tz().key),
    )


def assess(
    period: Period, teams: list[Team], now: datetime | None = None, like: Scope | None = None
) -> Assessment:
    """Every standard of the period's catalogue, rated for each team (`like`: see scope_for)."""
    scope = scope_for(period, teams, now, like)
    catalogue = scope.catalogue
    measures = [m for s in catalogue.standards for m in s["measures"]]
    figures = compute(scope, measures) if teams else []
    limits_of = [ratings.thresholds(measure, period) for measure in measures]  # same for every team
    results = []
    for team in teams:
        standards, index = [], 0
        for standard in catalogue.standards:
            rated = []
            for measure in standard["measures"]:
                limits = limits_of[index]
                figure = figures[index][team.id]
                rated.append(
                    MeasureResult(
                        index, measure, figure, limits, ratings.rate(figure.value, limits)
                    )
                )
                index += 1
            standards.append(
                StandardResult(standard, rated, ratings.worst([m.rating for m in rated]))
            )
        grade = ratings.grade(catalogue, [s.rating for s in standards])
        results.append(TeamAssessment(team, standards, grade))
    return Assessment(period, catalogue, scope.as_of, results, scope=scope)


def compare(current: Assessment, earlier: Assessment) -> Assessment:
    """Note on `current` each team's rating and grade in `earlier` (the same teams, in order)."""
    current.previous_period, current.previous_catalogue = earlier.period, earlier.catalogue
    for now_team, then_team in zip(current.teams, earlier.teams):
        then = {s.code: s.rating for s in then_team.standards}
        for standard in now_team.standards:
            standard.previous = then.get(standard.code)
        now_team.previous_grade = then_team.grade
        now_team.grade_change = ratings.grade_change(
            current.catalogue, now_team.grade["grade"], then_team.grade["grade"]
        )
    return current


def assess_with_previous(
    period: Period, teams: list[Team], now: datetime | None = None
) -> Assessment:
    """The period's assessment with each rating and grade compared with the period before.

    The previous period is judged by its own catalogue version; standards it did not have show
    no change.
    """
    current = assess(period, teams, now)
    try:
        earlier = assess(period.previous(), teams, now, like=current.scope)
    except AssessmentError:  # before the first catalogue took effect
        return current
    return compare(current, earlier)


def first_record(scope: Scope, team_id: int) -> datetime | None:
    """When the team's first counted record happened (None: it has none yet). One seek on the
    facts' (team, occurred_at) key: charts use it to tell "no records yet" from "not met"."""
    fact = AssessmentFact
    return db.session.scalar(
        sa.select(sa.func.min(fact.occurred_at)).where(*scope.counted(), fact.team_id == team_id)
    )


def trend(
    team: Team, period: Period, count: int = 12, now: datetime | None = None
) -> list[Assessment]:
    """One team's assessments for the `count` periods ending with `period` (those that can be
    judged: periods before the first catalogue are left out), oldest first."""
    found: list[Assessment] = []
    for each in period.back(count):
        try:
            found.append(assess(each, [team], now, like=found[-1].scope if found else None))
        except AssessmentError:
            continue
    if len(found) > 1 and found[-2].period == period.previous():
        compare(found[-1], found[-2])
    return found
