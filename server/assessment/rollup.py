"""Monthly rollups of assessment_fact: what a grid of whole local months needs, pre-added.

A quarter's grid over a million records reads ~80,000 facts per quarter; the same figures come
from a few thousand rows per quarter here, one per (team, local month, and the few columns the
measures select on). Five tables, each keyed by team and the month's first local day:

  assessment_month          records, people by kind, standards, returned?, whole days of notice
  assessment_month_officer  which officers recorded for the team
  assessment_month_group    records per group bit (for distinct_groups without kinds/standards)
  assessment_month_contact  first and last time each key contact was met, by kind and standards
  assessment_month_series   each kind's first and last record and longest gap inside the month

Deleted facts are left out (they never count); returned ones are kept apart so the catalogue's
`returned_records_count` still decides. Months are local months in the catalogue time zone the
rollups were built for (stored in assessment_rollup_state); periods in another zone, or not made
of whole months (weeks), read the facts instead, as do measures a rollup cannot answer exactly.

Maintenance, in facts.refresh()'s transaction, works from the facts with the same SQL as a full
build: the sums (assessment_month, _officer, _group) take the grouped rows of a batch's old facts
away and add its new facts' (INSERT ... SELECT ... ON CONFLICT DO UPDATE), and rows reaching zero
go; first/last/gap rows (_contact, _series) are rebuilt for each (month, teams, kinds) the batch
touched. test_rollup.py checks the result equals a build from scratch.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.assessment.periods import _add_months, local_midnight_utc, to_local
from server.assessment.sql import seconds_between
from server.db import db
from server.db.models import AssessmentCode
from server.db.models import AssessmentFact as Fact

DAY = 86_400
NO_NOTICE, LATE_NOTICE = -2, -1  # notice_day for "never publicised" and "publicised after"


class MonthTotal(db.Model):
    __tablename__ = "assessment_month"
    team_id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)  # first local day
    kind: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    std_mask: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    returned: Mapped[bool] = mapped_column(primary_key=True)
    notice_day: Mapped[int] = mapped_column(primary_key=True)  # whole days ahead, or the above
    records: Mapped[int]
    people_sum: Mapped[int] = mapped_column(sa.BigInteger)
    people_n: Mapped[int]
    __table_args__ = ({"sqlite_with_rowid": False},)


class MonthOfficer(db.Model):
    __tablename__ = "assessment_month_officer"
    team_id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)
    officer_id: Mapped[int] = mapped_column(primary_key=True)
    returned: Mapped[bool] = mapped_column(primary_key=True)
    records: Mapped[int]
    __table_args__ = ({"sqlite_with_rowid": False},)


class MonthGroup(db.Model):
    __tablename__ = "assessment_month_group"
    team_id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)
    bit: Mapped[int] = mapped_column(primary_key=True)
    returned: Mapped[bool] = mapped_column(primary_key=True)
    records: Mapped[int]
    __table_args__ = ({"sqlite_with_rowid": False},)


class MonthContact(db.Model):
    __tablename__ = "assessment_month_contact"
    team_id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    std_mask: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    returned: Mapped[bool] = mapped_column(primary_key=True)
    role_key: Mapped[str] = mapped_column(sa.String(120), primary_key=True)  # lower(trim(role))
    org_key: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]
    __table_args__ = ({"sqlite_with_rowid": False},)


class MonthSeries(db.Model):
    """One kind's records in a month: first, last and the longest gap between two of them
    (longest_gap_days), counting returned records (with_returned) or not."""

    __tablename__ = "assessment_month_series"
    team_id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    with_returned: Mapped[bool] = mapped_column(primary_key=True)
    records: Mapped[int]
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]
    inner_gap: Mapped[int | None] = mapped_column(sa.BigInteger)  # seconds; None for one record
    __table_args__ = ({"sqlite_with_rowid": False},)


class RollupState(db.Model):
    """The time zone the rollups' months are in (empty: not built)."""

    __tablename__ = "assessment_rollup_state"
    id: Mapped[int] = mapped_column(primary_key=True)
    tz: Mapped[str] = mapped_column(sa.String(64), default="")


TABLES = (MonthTotal, MonthOfficer, MonthGroup, MonthContact, MonthSeries)


def month_of(moment: datetime, tz: ZoneInfo) -> date:
    return to_local(moment, tz).date().replace(day=1)


def month_bounds(month: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return local_midnight_utc(month, tz), local_midnight_utc(_add_months(month, 1), tz)


def _selects(
    month: date,
    tz: ZoneInfo,
    teams: list[int] | None,
    pairs: list[tuple[int, str]] | None = None,
    records: list[str] | None = None,
    sign: int = 1,
) -> list[tuple]:
    """(model, columns, INSERT ... SELECT body) for one month's rollup rows of `teams` (None:
    all), or of (team, kind) `pairs`; with `records`, the additive tables' rows for just those
    records' facts, times `sign` (deltas, see Batch)."""
    start, end = month_bounds(month, tz)
    m = sa.literal(month, sa.Date)
    where = [Fact.deleted == sa.false(), Fact.occurred_at >= start, Fact.occurred_at < end]
    if teams is not None:
        where.append(Fact.team_id.in_(teams))
    if pairs is not None:  # the kinds as a list too: SQLite then seeks the (team, kind) index
        where += [
            Fact.kind.in_(sorted({kind for _, kind in pairs})),
            sa.tuple_(Fact.team_id, Fact.kind).in_(pairs),
        ]
    if records is not None:
        where.append(Fact.record_id.in_(records))

    def signed(value):
        return value if sign == 1 else value * sign

    count = signed(sa.func.count())
    returned = Fact.review_state == "returned"
    notice = sa.case(
        (Fact.notice_seconds.is_(None), NO_NOTICE),
        (Fact.notice_seconds < 0, LATE_NOTICE),
        else_=Fact.notice_seconds // DAY,
    )
    role = sa.func.lower(sa.func.trim(Fact.contact_role))
    org = sa.func.lower(sa.func.trim(Fact.contact_org))
    bit_set = Fact.group_mask.op(">>")(AssessmentCode.bit).op("&")(1) == 1
    made = [
        (
            MonthTotal,
            [
                "team_id",
                "month",
                "kind",
                "std_mask",
                "returned",
                "notice_day",
                "records",
                "people_sum",
                "people_n",
            ],
            sa.select(
                Fact.team_id,
                m,
                Fact.kind,
                Fact.std_mask,
                returned,
                notice,
                count,
                signed(sa.func.coalesce(sa.func.sum(Fact.people_count), 0)),
                signed(sa.func.count(Fact.people_count)),
            )
            .where(*where)
            .group_by(Fact.team_id, Fact.kind, Fact.std_mask, returned, notice),
        ),
        (
            MonthOfficer,
            ["team_id", "month", "officer_id", "returned", "records"],
            sa.select(Fact.team_id, m, Fact.officer_id, returned, count)
            .where(*where)
            .group_by(Fact.team_id, Fact.officer_id, returned),
        ),
        (
            MonthGroup,
            ["team_id", "month", "bit", "returned", "records"],
            sa.select(Fact.team_id, m, AssessmentCode.bit, returned, count)
            .join(AssessmentCode, sa.and_(AssessmentCode.family == "group", bit_set))
            .where(*where, Fact.group_mask != 0)
            .group_by(Fact.team_id, AssessmentCode.bit, returned),
        ),
    ]
    if records is not None:
        return made
    made += [
        (
            MonthContact,
            [
                "team_id",
                "month",
                "kind",
                "std_mask",
                "returned",
                "role_key",
                "org_key",
                "first_at",
                "last_at",
            ],
            sa.select(
                Fact.team_id,
                m,
                Fact.kind,
                Fact.std_mask,
                returned,
                role,
                org,
                sa.func.min(Fact.occurred_at),
                sa.func.max(Fact.occurred_at),
            )
            .where(
                *where,
                sa.or_(sa.func.trim(Fact.contact_role) != "", sa.func.trim(Fact.contact_org) != ""),
            )
            .group_by(Fact.team_id, Fact.kind, Fact.std_mask, returned, role, org),
        ),
    ]
    for with_returned in (False, True):
        points = (
            sa.select(
                Fact.team_id.label("team_id"),
                Fact.kind.label("kind"),
                Fact.occurred_at.label("t"),
                sa.func.lag(Fact.occurred_at)
                .over(partition_by=(Fact.team_id, Fact.kind), order_by=Fact.occurred_at)
                .label("prev"),
            )
            .where(*where, *([] if with_returned else [sa.not_(returned)]))
            .subquery()
        )
        made.append(
            (
                MonthSeries,
                [
                    "team_id",
                    "month",
                    "kind",
                    "with_returned",
                    "records",
                    "first_at",
                    "last_at",
                    "inner_gap",
                ],
                sa.select(
                    points.c.team_id,
                    m,
                    points.c.kind,
                    sa.literal(with_returned),
                    sa.func.count(),
                    sa.func.min(points.c.t),
                    sa.func.max(points.c.t),
                    sa.func.max(seconds_between(points.c.t, points.c.prev)),
                ).group_by(points.c.team_id, points.c.kind),
            )
        )
    return made


ADDITIVE = (MonthTotal, MonthOfficer, MonthGroup)  # sums: kept by deltas
REBUILT = (MonthContact, MonthSeries)  # first, last, gaps: rebuilt for the kinds touched


def _rebuild_month(
    month: date, teams: list[int] | None, tz: ZoneInfo, pairs: list[tuple[int, str]] | None = None
) -> None:
    """The month's rows for `teams` (None: all), or just REBUILT's for (team, kind) `pairs`."""
    models = TABLES if pairs is None else REBUILT
    for model in models:
        where = [model.month == month]
        if teams is not None:
            where.append(model.team_id.in_(teams))
        if pairs is not None:
            where.append(sa.tuple_(model.team_id, model.kind).in_(pairs))
        db.session.execute(sa.delete(model).where(*where))
    for model, columns, select in _selects(month, tz, teams, pairs):
        if model in models:
            db.session.execute(sa.insert(model).from_select(columns, select))


def _upsert(model, columns: list[str], select) -> None:
    """INSERT ... SELECT adding to the rows already there (both databases: ON CONFLICT)."""
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(model).from_select(columns, select)
    keys = [c.name for c in model.__table__.primary_key.columns]
    sums = [c for c in columns if c not in keys]
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=keys, set_={c: getattr(model, c) + statement.excluded[c] for c in sums}
        )
    )


class Batch:
    """The rollups' side of one facts batch, given its records' old facts and new ones as
    (record_id, team_id, occurred_at, kind): before() while the old facts are still in the
    table, after() once the new ones are.

    A month where the batch touched few teams (a phone's push: one team, this month) is rebuilt
    whole for them; elsewhere (writes scattered over many teams and months) the sums take
    deltas and only the (team, kind)s touched are rebuilt, which reads far fewer facts."""

    WHOLE_UP_TO = 2  # teams touched in a month

    def __init__(self, tz: ZoneInfo, old_rows, new_rows):
        self.tz = tz
        self.ids: dict[int, dict[date, list[str]]] = {-1: defaultdict(list), 1: defaultdict(list)}
        self.pairs: dict[date, set[tuple[int, str]]] = defaultdict(set)
        for sign, rows in ((-1, old_rows), (1, new_rows)):
            for record_id, team, when, kind in rows:
                month = month_of(when, self.tz)
                self.ids[sign][month].append(record_id)
                self.pairs[month].add((team, kind))

    def _delta(self, month: date) -> bool:
        return len({team for team, _ in self.pairs[month]}) > self.WHOLE_UP_TO

    def _sums(self, sign: int) -> None:
        for month, ids in self.ids[sign].items():
            if self._delta(month):
                for model, columns, select in _selects(
                    month, self.tz, None, records=ids, sign=sign
                ):
                    _upsert(model, columns, select)

    def before(self) -> None:
        self._sums(-1)

    def after(self) -> None:
        self._sums(1)
        for month, pairs in sorted(self.pairs.items()):
            teams = sorted({team for team, _ in pairs})
            if not self._delta(month):
                _rebuild_month(month, teams, self.tz)
                continue
            for model in ADDITIVE:
                db.session.execute(
                    sa.delete(model).where(
                        model.month == month, model.team_id.in_(teams), model.records == 0
                    )
                )
            _rebuild_month(month, teams, self.tz, sorted(pairs))


def rebuild_all(tz: ZoneInfo) -> None:
    """Every month of every fact, for the zone `tz` (after a bulk load, a restore, a new zone)."""
    for model in TABLES:
        db.session.execute(sa.delete(model))
    first, last = db.session.execute(
        sa.select(sa.func.min(Fact.occurred_at), sa.func.max(Fact.occurred_at))
    ).one()
    if first is not None:
        teams = list(db.session.scalars(sa.select(Fact.team_id).distinct()))
        month, final = month_of(first, tz), month_of(last, tz)
        while month <= final:
            _rebuild_month(month, teams, tz)
            month = _add_months(month, 1)
    state = db.session.get(RollupState, 1)
    if state is None:
        db.session.add(RollupState(id=1, tz=tz.key))
    else:
        state.tz = tz.key


def forget() -> None:
    """Mark the rollups as not built (they are about to be rebuilt from scratch)."""
    db.session.execute(sa.update(RollupState).where(RollupState.id == 1).values(tz=""))


def built_for() -> str | None:
    """The zone the rollups are built for, or None when they are not.

    The tables are made by the migrations (v1_0_0; adopting a 1.0.0 database made before them
    creates them), never during a request."""
    return db.session.scalar(sa.select(RollupState.tz).where(RollupState.id == 1)) or None


def covers(period, zone: str | None) -> bool:
    """Whether `period` is whole local months of the zone the rollups are built for."""
    return (
        zone is not None and period.tz.key == zone and period.start.day == 1 and period.end.day == 1
    )
