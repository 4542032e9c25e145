"""SQL pieces every measure shares: which records count, which a measure selects, time arithmetic.

Times are naive UTC in both databases. Differences are taken in whole seconds in SQL (integers are
exact on both), so SQLite and PostgreSQL give identical figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from server.extensions import db

from schema.catalogue import Catalogue
from server.assessment.periods import Period
from server.models import Record, RecordStandard


class seconds_between(FunctionElement):
    """Whole seconds from `earlier` to `later` (later - earlier), rounded."""

    type = sa.BigInteger()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element, compiler, **kw) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(ROUND((julianday({later}) - julianday({earlier})) * 86400) AS INTEGER)"


@compiles(seconds_between, "postgresql")
def _seconds_postgresql(element, compiler, **kw) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(ROUND(EXTRACT(EPOCH FROM ({later} - {earlier}))) AS BIGINT)"


@compiles(seconds_between)
def _seconds_other(element, compiler, **kw) -> str:
    raise NotImplementedError(f"seconds_between has no SQL for {compiler.dialect.name}")


def tune_for_scans() -> None:
    """On SQLite, give this connection a bigger page cache and memory-mapped reads.

    A grid probes record_standard and record_group once per record of the period; with
    SQLite's default 2 MB cache most probes are a system call. Harmless to repeat; better still
    set once per connection where the app sets its other pragmas.
    """
    if db.engine.dialect.name == "sqlite":
        db.session.execute(sa.text("PRAGMA cache_size=-65536"))  # 64 MB
        db.session.execute(sa.text("PRAGMA mmap_size=1073741824"))  # 1 GB


@dataclass(frozen=True, eq=False)
class Scope:
    """What one assessment counts: a period judged as of an instant, under one catalogue."""

    period: Period
    as_of: datetime  # naive UTC: the period's end, or now while it runs
    catalogue: Catalogue
    teams: tuple[int, ...]  # the teams judged
    seldom_heard: frozenset[str]
    officers: Mapping[int, frozenset[int]] = field(default_factory=dict)  # active roster per team
    every_team: bool = False  # the teams are the whole force: no team filter needed in SQL

    def counted(self) -> list[ColumnElement[bool]]:
        """Records that count: never deleted ones; returned ones only if the catalogue says so."""
        conditions = [Record.deleted == sa.false()]
        if not self.catalogue.returned_records_count:
            conditions.append(Record.review_state != "returned")
        if not self.every_team:
            conditions.append(Record.team_id.in_(self.teams))
        return conditions

    def in_period(self) -> list[ColumnElement[bool]]:
        return [Record.occurred_at >= self.period.start_utc, Record.occurred_at < self.period.end_utc]


def selects(measure: dict) -> ColumnElement[bool] | None:
    """The records a measure looks at: of its kinds, evidencing its standards (both when given)."""
    conditions: list[ColumnElement[bool]] = []
    if measure.get("kinds"):
        conditions.append(Record.kind.in_(measure["kinds"]))
    if measure.get("standards"):
        conditions.append(
            sa.exists()
            .where(RecordStandard.record_id == Record.id)
            .where(RecordStandard.code.in_(measure["standards"]))
        )
    if not conditions:
        return None
    return sa.and_(*conditions) if len(conditions) > 1 else conditions[0]


def where_selected(measure: dict) -> list[ColumnElement[bool]]:
    condition = selects(measure)
    return [] if condition is None else [condition]


def case_sum(condition: ColumnElement[bool] | None, value=None):
    """SUM(CASE WHEN condition THEN value ELSE 0 END): a filtered sum (or count, when value is
    None) computed inside a scan that other measures share."""
    if condition is None:
        return sa.func.count() if value is None else sa.func.coalesce(sa.func.sum(value), 0)
    then = sa.literal(1) if value is None else value
    return sa.func.coalesce(sa.func.sum(sa.case((condition, then), else_=0)), 0)
