"""Full-text search over records' summary and follow-up.

SQLite: an external-content FTS5 table keyed by the record's `seq` (unique, and changed by every
write), kept in step by triggers, so no application code has to remember it. PostgreSQL: a GIN
index on the tsvector expression, which the planner uses when a query repeats the expression.
Both dialects search word prefixes, every word required ("shop lift" finds "shoplifting").
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from server.extensions import db
from server.models import Record

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


def _pg_document() -> ColumnElement:
    # Must match the index expression exactly, or PostgreSQL will not use the index.
    text = sa.func.coalesce(Record.summary, "") + " " + sa.func.coalesce(Record.follow_up, "")
    return sa.func.to_tsvector(sa.literal_column(f"'{PG_CONFIG}'::regconfig"), text)


_PG_DDL = [
    f"""CREATE INDEX IF NOT EXISTS ix_record_fulltext ON record USING gin (
        to_tsvector('{PG_CONFIG}'::regconfig,
                    coalesce(summary, '') || ' ' || coalesce(follow_up, '')))""",
]


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
    """A WHERE clause on Record matching every word of `query` as a prefix; None for no words."""
    words = terms(query)
    if not words:
        return None
    if db.engine.dialect.name == "postgresql":
        tsquery = " & ".join(f"{w}:*" for w in words)
        return _pg_document().op("@@")(
            sa.func.to_tsquery(sa.literal_column(f"'{PG_CONFIG}'::regconfig"), tsquery)
        )
    return Record.seq.in_(matching_seqs(query))


def fts_query(query: str) -> str:
    """The SQLite FTS5 query for a search box's text: every word quoted (so NEAR, OR, -, : typed
    into the box are just text) and matched as a prefix."""
    return " ".join(f'"{w}"*' for w in terms(query))


def matching_seqs(query: str) -> sa.Select:
    """SQLite: the `seq` of every record matching `query` (the FTS rowids)."""
    return sa.select(sa.literal_column("rowid")).select_from(sa.table(FTS_TABLE)).where(
        sa.literal_column(FTS_TABLE).op("MATCH")(fts_query(query))
    )
