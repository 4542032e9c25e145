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

from schema.catalogue import Catalogue
from server.assessment.periods import Period
from server.db import db
from server.db.models import AssessmentFact as Fact


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
    """On SQLite, give this connection memory-mapped reads.

    A grid probes record_standard and record_group once per record of the period; read through
    a memory map, most probes are no system call. Once per pooled connection. (The page cache
    is left as the engine set it for every connection: the write path relies on its size.)
    """
    if db.engine.dialect.name == "sqlite":
        connection = db.session.connection()
        if connection.info.get("beatbook.tuned"):  # info lives as long as the DBAPI connection
            return
        connection.exec_driver_sql("PRAGMA mmap_size=1073741824")  # 1 GB
        connection.info["beatbook.tuned"] = True


@dataclass(frozen=True, eq=False)
class Scope:
    """What one assessment counts: a period judged as of an instant, under one catalogue.

    Queries read AssessmentFact (see facts.py): a record's countable columns with its standards
    and groups as bit masks; `standard_bits` and `group_bits` say which bit is which code.
    """

    period: Period
    as_of: datetime  # naive UTC: the period's end, or now while it runs
    catalogue: Catalogue
    teams: tuple[int, ...]  # the teams judged
    seldom_heard: frozenset[str]
    officers: Mapping[int, frozenset[int]] = field(default_factory=dict)  # active roster per team
    standard_bits: Mapping[str, int] = field(default_factory=dict)
    group_bits: Mapping[str, int] = field(default_factory=dict)
    rollups: bool = False  # the period is whole months of the zone rollup.py is built for

    def counted(self) -> list[ColumnElement[bool]]:
        """Records that count: never deleted ones; returned ones only if the catalogue says so."""
        conditions = [Fact.deleted == sa.false()]
        if not self.catalogue.returned_records_count:
            conditions.append(Fact.review_state != "returned")
        # Always by team, even for the whole force: the fact table is clustered (and indexed)
        # by team first, and an IN list lets SQLite seek each team without planner statistics.
        conditions.append(Fact.team_id.in_(self.teams))
        return conditions

    def in_period(self) -> list[ColumnElement[bool]]:
        return [Fact.occurred_at >= self.period.start_utc, Fact.occurred_at < self.period.end_utc]

    def standard_mask(self, codes) -> int:
        return sum(1 << self.standard_bits[c] for c in set(codes or []) if c in self.standard_bits)

    def group_mask(self, codes) -> int:
        return sum(1 << self.group_bits[c] for c in set(codes or []) if c in self.group_bits)

    def groups_in(self, group_mask: int) -> list[str]:
        return sorted(code for code, bit in self.group_bits.items() if group_mask >> bit & 1)

    def matches(self, measure: dict, kind: str, standard_mask: int) -> bool:
        """The Python twin of selects(), for rows already grouped by kind and standards."""
        if measure.get("kinds") and kind not in measure["kinds"]:
            return False
        if measure.get("standards") and not standard_mask & self.standard_mask(
            measure["standards"]
        ):
            return False
        return True


def has_bits(column, mask: int) -> ColumnElement[bool]:
    """column & mask != 0; false outright when no record has used any of the codes yet."""
    return column.op("&")(mask) != 0 if mask else sa.false()


def selects(measure: dict, scope: Scope, table=Fact) -> ColumnElement[bool] | None:
    """The records a measure looks at: of its kinds, evidencing its standards (both when given).
    `table` is anything with kind and std_mask columns (the facts, or a rollup)."""
    conditions: list[ColumnElement[bool]] = []
    if measure.get("kinds"):
        conditions.append(table.kind.in_(measure["kinds"]))
    if measure.get("standards"):
        conditions.append(has_bits(table.std_mask, scope.standard_mask(measure["standards"])))
    if not conditions:
        return None
    return sa.and_(*conditions) if len(conditions) > 1 else conditions[0]


def where_selected(measure: dict, scope: Scope, table=Fact) -> list[ColumnElement[bool]]:
    condition = selects(measure, scope, table)
    return [] if condition is None else [condition]
