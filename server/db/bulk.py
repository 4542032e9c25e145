"""Bulk SQL for the write path: multi-row inserts and updates that keep each column type's
conversion but skip SQLAlchemy's per-row bookkeeping."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from itertools import chain
from operator import itemgetter
from typing import Any, cast

import orjson
from sqlalchemy import (
    CursorResult,
    DateTime,
    Dialect,
    Table,
    bindparam,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from server.db import AnySession

# Rows of an executemany UPDATE name the key this way, so that `id` is not also SET.
_KEY = "record_key"


@dataclass
class Converted:
    """Rows for `table` already converted for the database (`convert_rows`), so that the
    conversion can run before a lock and only the insert under it."""

    table: Table
    names: tuple[str, ...]
    values: list[list[Any]]

    def put(self, name: str, values: list[Any]) -> None:
        """Set column `name` of every row; only for a column whose type converts nothing
        (an integer), as the values go to the database as they are."""
        if not self.values:
            return
        index = self.names.index(name)
        for row, value in zip(self.values, values):
            row[index] = value


def convert_rows(dialect: Dialect, table: Table, rows: list[dict]) -> Converted:
    """`rows` (dicts with the same keys) converted for `insert_rows` into `table`."""
    if not rows:
        return Converted(table, (), [])
    names = tuple(rows[0])
    _, columns = _values_plan(table, names, dialect)
    return Converted(table, names, [list(row) for row in _converted(rows, columns)])


def insert_rows(session: AnySession, table: Table, rows: list[dict] | Converted) -> None:
    """Insert `rows` (dicts with the same keys), each value converted by its column's type.

    SQLite gets multi-row INSERTs. Under an executemany of one-row INSERTs the search index's
    trigger runs in a statement of its own for every row, and FTS5 flushes a new index segment
    each time: one statement halves the cost of a record insert. PostgreSQL gets an executemany
    of the one-row INSERT, which psycopg pipelines (it would parse a statement with thousands
    of placeholders in Python). Both skip SQLAlchemy's per-row parameter bookkeeping, which cost
    more than SQLite spent on the rows, but keep each type's conversion for the dialect (JSON,
    times, booleans).
    """
    if not (rows.values if isinstance(rows, Converted) else rows):
        return
    connection = session.connection()
    dialect = connection.dialect
    names = rows.names if isinstance(rows, Converted) else tuple(rows[0])
    sql_head, marks, columns = _insert_plan(table, names, dialect)
    values = rows.values if isinstance(rows, Converted) else _converted(rows, columns)
    if dialect.name != "sqlite":
        connection.exec_driver_sql(sql_head + marks, list(map(tuple, values)))
        return
    per_statement = max(1, dialect.insertmanyvalues_max_parameters // len(columns))
    for start in range(0, len(values), per_statement):
        chunk = values[start : start + per_statement]
        connection.exec_driver_sql(
            sql_head + ", ".join([marks] * len(chunk)), tuple(chain.from_iterable(chunk))
        )


def _converted(rows: list[dict], columns: tuple) -> list[tuple]:
    """Each row's values in `columns` order, converted for the database column by column:
    the loops run in C (itemgetter, zip, map) rather than a Python expression per value."""
    get = itemgetter(*(name for name, _ in columns))
    by_column = zip(*map(get, rows)) if len(columns) > 1 else [[get(row) for row in rows]]
    converted = [
        column if convert is None else list(map(convert, column))
        for column, (_, convert) in zip(by_column, columns)
    ]
    return list(zip(*converted))


def update_rows(
    session: AnySession, table: Table, rows: list[dict], guard: tuple[str, str] | None = None
) -> int:
    """Update rows of `table` by primary key `id`; `rows` are dicts with the same keys. Returns
    how many rows were updated.

    With `guard=(column, key)`, each row is updated only while `column` still holds the row's
    `key` value (which is not SET): a row that moved is left alone and not counted.

    SQLite gets one `UPDATE ... FROM (VALUES ...)`, for the reason `insert_rows` gives (the
    search index's update trigger fires for every write, since every write moves `seq`).
    PostgreSQL gets SQLAlchemy's executemany, which psycopg pipelines.
    """
    if not rows:
        return 0
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "sqlite":
        renamed = [
            {_KEY if name == "id" else name: value for name, value in row.items()} for row in rows
        ]
        where = table.c.id == bindparam(_KEY)
        if guard:
            where = where & (table.c[guard[0]] == bindparam(guard[1]))
        values: dict[str, BindParameter[Any]] = {
            name: bindparam(name)
            for name in renamed[0]
            if name != _KEY and (not guard or name != guard[1])
        }
        # Session.execute is typed as returning Result; an UPDATE gives a CursorResult.
        result = cast(
            CursorResult[Any], session.execute(update(table).where(where).values(values), renamed)
        )
        return result.rowcount
    names = tuple(rows[0])
    marks, columns = _values_plan(table, names, dialect)
    quote = dialect.identifier_preparer.quote
    target = quote(table.name)
    skip = {"id", guard[1]} if guard else {"id"}
    sets = ", ".join(
        f"{quote(name)} = v.column{i}" for i, name in enumerate(names, 1) if name not in skip
    )
    match = f"{target}.{quote('id')} = v.column{names.index('id') + 1}"
    if guard:
        match += f" AND {target}.{quote(guard[0])} = v.column{names.index(guard[1]) + 1}"
    per_statement = max(1, dialect.insertmanyvalues_max_parameters // len(columns))
    updated = 0
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        updated += connection.exec_driver_sql(
            f"UPDATE {target} SET {sets} FROM (VALUES {', '.join([marks] * len(chunk))}) AS v "
            f"WHERE {match}",
            tuple(chain.from_iterable(_converted(chunk, columns))),
        ).rowcount
    return updated


@lru_cache(maxsize=64)
def _insert_plan(table: Table, names: tuple[str, ...], dialect: Dialect):
    missing = [c.name for c in table.c if c.name not in names and c.default is not None]
    if missing:
        raise ValueError(f"insert_rows into {table.name} must give {', '.join(missing)}")
    quote = dialect.identifier_preparer.quote
    head = f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) VALUES "
    return (head, *_values_plan(table, names, dialect))


@lru_cache(maxsize=64)
def _values_plan(table: Table, names: tuple[str, ...], dialect: Dialect):
    """A row's placeholders, and each column's name and its type's conversion for `dialect`."""
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    marks = "(" + ", ".join([mark] * len(names)) + ")"
    # A name that is no column (an update's guard value) is passed as it is.
    columns = tuple(
        (n, _conversion(table.c[n].type, dialect) if n in table.c else None) for n in names
    )
    return marks, columns


_SAMPLE_TIME = datetime(2026, 12, 7, 9, 5, 3, 42)


def _conversion(kind: Any, dialect: Dialect) -> Any:
    """A column type's conversion for `dialect`. SQLite's DATETIME formats a naive time field
    by field in Python; isoformat writes the same text in C, and is used where it gives exactly
    what the type's own conversion gives (anything else still goes to that conversion)."""
    convert = kind.dialect_impl(dialect).bind_processor(dialect)
    if convert is None or dialect.name != "sqlite" or not isinstance(kind, DateTime):
        return convert
    if convert(_SAMPLE_TIME) != _SAMPLE_TIME.isoformat(" ", "microseconds"):
        return convert

    def iso(value: Any) -> Any:
        if type(value) is datetime and value.tzinfo is None:
            return value.isoformat(" ", "microseconds")
        return convert(value)

    return iso


def among(session: AnySession, column: Any, values: Collection[str]) -> ColumnElement[bool]:
    """`column IN values` for a batch's hundreds of string keys. SQLite: one bound parameter,
    a JSON array read by json_each, since an IN list is rendered with a placeholder per value
    on every execution, which cost more than the query. PostgreSQL keeps the IN list: given
    `= ANY(array)`, its generic plan for a prepared statement (psycopg prepares a statement
    after a few runs) scanned the whole change log."""
    if session.get_bind().dialect.name != "sqlite":
        return column.in_(values)
    listed: Select[Any] = select(literal_column("value")).select_from(
        func.json_each(orjson.dumps(list(values)).decode())
    )
    return column.in_(listed)
