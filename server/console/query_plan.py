"""Choosing how the logs query finds rows when filters live in other tables (search, standard,
group).

Two plans answer "newest 50 records matching X":
- drive from X's matching rows, then sort them: cheap when X matches few records;
- walk the (occurred_at, id) index newest first and check X per row: cheap when X matches many,
  because 50 matches turn up quickly.
SQLite's planner cannot tell the two cases apart (it has no statistics for FTS matches or for a
code's share of the link tables) and always drives from the subquery, which at a million records
means sorting hundreds of thousands of rows. So the console counts each set's matches up to a
small bound (cheap: it stops at the bound) and picks. PostgreSQL's planner has statistics for both
and is given the plain semi-joins.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from server.extensions import db
from server.models import Record, RecordGroup, RecordStandard
from server.search import matching_seqs, text_match

DRIVE_LIMIT = 3000  # at most this many matches: drive from them; more: walk the time index


@dataclass
class SetFilter:
    """A filter whose matches are a set of keys from another table."""

    key: ColumnElement  # the Record column the candidates name
    candidates: sa.Select  # selects that column's values for every matching record
    probe: ColumnElement  # the same test per record, in a form no index can drive

    def size_upto(self, bound: int) -> int:
        limited = self.candidates.limit(bound + 1).subquery()
        return db.session.scalar(sa.select(sa.func.count()).select_from(limited))

    def driving(self) -> ColumnElement:
        return self.key.in_(self.candidates)


def link_filter(model: type[RecordStandard] | type[RecordGroup], code: str) -> SetFilter:
    return SetFilter(
        key=Record.id,
        candidates=sa.select(model.record_id).where(model.code == code),
        probe=sa.exists().where(model.record_id == Record.id, model.code == code),
    )


def text_filter(query: str) -> SetFilter | ColumnElement | None:
    """Full-text search as a SetFilter on SQLite; a plain clause on PostgreSQL (its planner knows
    how selective a tsquery is)."""
    if db.engine.dialect.name != "sqlite":
        return text_match(query)
    if text_match(query) is None:
        return None
    seqs = matching_seqs(query)
    # `seq + 0` keeps the per-row test off the seq index, so the time index drives the scan.
    return SetFilter(key=Record.seq, candidates=seqs, probe=(Record.seq + 0).in_(seqs))


def plan(filters: list[SetFilter]) -> list[ColumnElement]:
    """The clauses for these set filters: drive from the smallest if it is small, else probe all."""
    if not filters:
        return []
    if db.engine.dialect.name != "sqlite":
        return [f.driving() for f in filters]
    sized = sorted(((f.size_upto(DRIVE_LIMIT), n, f) for n, f in enumerate(filters)),
                   key=lambda item: item[:2])
    smallest, _, first = sized[0]
    if smallest <= DRIVE_LIMIT:
        return [first.driving(), *(f.probe for _, _, f in sized[1:])]
    return [f.probe for _, _, f in sized]
