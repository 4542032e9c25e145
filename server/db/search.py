"""Full-text search over records' summary and follow-up.

SQLite: an external-content FTS5 table keyed by the record's `seq` (unique, and changed by every
write), kept in step by triggers, so no application code has to remember it. PostgreSQL: a stored
generated tsvector column with a GIN index. Both dialects search word prefixes with English
stemming, every word required ("shop lift" finds "shoplifting").
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from server.db import db
from server.db.models import Record

FTS_TABLE = "record_fts"
PG_CONFIG = "english"
MAX_TERMS = 8
_WORD = re.compile(r"\w+", re.UNICODE)

_SQLITE_DDL = [
    f"""CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(
        summary, follow_up, content='record', content_rowid='seq',
        tokenize='porter unicode61 remove_diacritics 2')""",
    f"""CREATE TRIGGER IF NOT EXISTS record_fts_insert AFTER INSERT ON record BEGIN
        INSERT INTO {FTS_TABLE}(rowid, summary, follow_up)
        VALUES (new.seq, new.summary, new.follow_up);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS record_fts_delete AFTER DELETE ON record BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, summary, follow_up)
        VALUES ('delete', old.seq, old.summary, old.follow_up);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS record_fts_update AFTER UPDATE OF summary, follow_up, seq
        ON record BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, summary, follow_up)
        VALUES ('delete', old.seq, old.summary, old.follow_up);
        INSERT INTO {FTS_TABLE}(rowid, summary, follow_up)
        VALUES (new.seq, new.summary, new.follow_up);
    END""",
]


# PostgreSQL keeps each record's tsvector in a stored generated column: the GIN index finds the
# records a query matches, and a per-row test (walking the time index newest first) reads the
# stored vector instead of parsing the text again (25 us a row: 25 s for a million).
PG_COLUMN = "search_doc"
_PG_DDL = [
    f"""ALTER TABLE record ADD COLUMN IF NOT EXISTS {PG_COLUMN} tsvector
        GENERATED ALWAYS AS (to_tsvector('{PG_CONFIG}'::regconfig,
            coalesce(summary, '') || ' ' || coalesce(follow_up, ''))) STORED""",
    f"CREATE INDEX IF NOT EXISTS ix_record_search_doc ON record USING gin ({PG_COLUMN})",
    "DROP INDEX IF EXISTS ix_record_fulltext",  # the expression index of the first version
]


def _pg_document() -> ColumnElement:
    return sa.literal_column(f"record.{PG_COLUMN}")


def _pg_query(words: list[str]) -> ColumnElement:
    tsquery = " & ".join(f"{w}:*" for w in words)
    return sa.func.to_tsquery(sa.literal_column(f"'{PG_CONFIG}'::regconfig"), tsquery)


def install_search() -> None:
    """Create the search index (and, on SQLite, its triggers); running it again changes nothing."""
    dialect = db.engine.dialect.name
    statements = _SQLITE_DDL if dialect == "sqlite" else _PG_DDL if dialect == "postgresql" else []
    with db.engine.begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))


def rebuild_search() -> None:
    """Rebuild the SQLite index from the records (after bulk loading with triggers bypassed)."""
    if db.engine.dialect.name == "sqlite":
        with db.engine.begin() as conn:
            conn.execute(sa.text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')"))


def terms(query: str) -> list[str]:
    """The words of a search box's text, lower-cased, at most MAX_TERMS of them."""
    return [w.lower() for w in _WORD.findall(query or "")][:MAX_TERMS]


def text_match(query: str) -> ColumnElement | None:
    """A WHERE clause on Record matching every word of `query` as a prefix (in the form an index
    can serve); None when the query has no words."""
    words = terms(query)
    if not words:
        return None
    key, candidates = text_candidates(query)
    return key.in_(candidates)


def text_candidates(query: str) -> tuple[InstrumentedAttribute[Any], sa.Select[Any]]:
    """(Record column, a select of that column for every matching record), found by the index."""
    if db.engine.dialect.name == "postgresql":
        return Record.id, sa.select(Record.id).where(
            _pg_document().op("@@")(_pg_query(terms(query)))
        )
    return Record.seq, matching_seqs(query)


def text_probe(query: str) -> ColumnElement:
    """The same test per record, in a form no index can serve, for walking the time index."""
    if db.engine.dialect.name == "postgresql":
        return sa.func.ts_match_vq(_pg_document(), _pg_query(terms(query)))
    # `seq + 0` keeps the test off the seq index; SQLite builds the match set once.
    return (Record.seq + 0).in_(matching_seqs(query))


def fts_query(query: str) -> str:
    """The SQLite FTS5 query for a search box's text: every word quoted (so NEAR, OR, -, : typed
    into the box are just text) and matched as a prefix."""
    return " ".join(f'"{w}"*' for w in terms(query))


def matching_seqs(query: str) -> sa.Select:
    """SQLite: the `seq` of every record matching `query` (the FTS rowids)."""
    return (
        sa.select(sa.literal_column("rowid"))
        .select_from(sa.table(FTS_TABLE))
        .where(sa.literal_column(FTS_TABLE).op("MATCH")(fts_query(query)))
    )
