"""Choosing how the logs query finds rows when filters live outside the record's own columns
(full-text search, standard, group reached).

Two plans answer "the newest 50 records matching X":
- drive from X's matches, then sort them: cheap when X matches few records;
- walk the (occurred_at, id) index newest first and test X per row: cheap when X matches many,
  because 50 matches turn up quickly.
Neither database can tell the cases apart: SQLite has no statistics for FTS matches or for a
code's share of the link tables and always drives from the subquery (sorting hundreds of
thousands of rows for a common word); PostgreSQL guesses 2% for any prefix search and walks all
million rows for a word nobody wrote. So the console asks each filter for its matches, stopping
just past a bound: a set within the bound drives the query as a literal list of keys, and
anything bigger is tested per row, in a form no index can take.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from server.db import db
from server.db.models import Record, RecordGroup, RecordStandard
from server.db.search import terms, text_candidates, text_probe

DRIVE_LIMIT = 3000  # at most this many matches: drive from them; more: walk the time index


@dataclass
class SetFilter:
    """A filter whose matches are a set of keys found through another index."""

    key: ColumnElement  # the Record column the candidates name
    candidates: sa.Select  # selects that column's values for every matching record
    probe: ColumnElement  # the same test per record, in a form no index can drive
    # Listing even a bounded number of matches costs as much as all of them (a PostgreSQL GIN
    # bitmap for a prefix search), so first try walking the newest records and testing each.
    walk_first: bool = False

    def keys_upto(self, bound: int) -> list | None:
        """The matching keys if there are at most `bound` of them, else None."""
        keys = list(db.session.scalars(self.candidates.limit(bound + 1)))
        return keys if len(keys) <= bound else None


def link_filter(model: type[RecordStandard] | type[RecordGroup], code: str) -> SetFilter:
    return SetFilter(
        key=Record.id,
        candidates=sa.select(model.record_id).where(model.code == code),
        probe=sa.exists().where(model.record_id == Record.id, model.code == code),
    )


def text_filter(query: str) -> SetFilter | None:
    if not terms(query):
        return None
    key, candidates = text_candidates(query)
    return SetFilter(
        key=key,
        candidates=candidates,
        probe=text_probe(query),
        walk_first=db.engine.dialect.name == "postgresql",
    )


@dataclass
class Conditions:
    """A filter as SQL: tests on the record's own columns, and the set filters still to plan."""

    fixed: list[ColumnElement]
    sets: list[SetFilter]
    _planned: list[ColumnElement] | None = None
    _driven: bool = False

    def resolved(self) -> list[ColumnElement]:
        # Planned once: the page, its count and a record's neighbours share the plan's queries.
        if self._planned is None:
            self._planned, self._driven = plan(self.sets)
        return [*self.fixed, *self._planned]

    def counted(self) -> list[ColumnElement]:
        """The same test for counting every match: the plan when a small set drives it (the
        rest are tested on those few rows), else every set through its own index, since a
        count cannot stop after a page's worth as a walk of the time index does."""
        resolved = self.resolved()
        if self._driven or not self.sets:
            return resolved
        return [*self.fixed, *(s.key.in_(s.candidates) for s in self.sets)]

    def probed(self) -> list[ColumnElement]:
        return [*self.fixed, *(s.probe for s in self.sets)]

    @property
    def walk_first(self) -> bool:
        return any(s.walk_first for s in self.sets)


def plan(filters: list[SetFilter]) -> tuple[list[ColumnElement], bool]:
    """Clauses for these filters: the smallest drives if it is small, the rest are probes; and
    whether one drives."""
    best: tuple[int, list] | None = None
    for index, found in enumerate(f.keys_upto(DRIVE_LIMIT) for f in filters):
        if found is not None and (best is None or len(found) < len(best[1])):
            best = (index, found)
    clauses = []
    for index, set_filter in enumerate(filters):
        if best is not None and index == best[0]:
            # An empty list still gives a valid query that matches nothing.
            clauses.append(set_filter.key.in_(best[1]))
        else:
            clauses.append(set_filter.probe)
    return clauses, best is not None
