"""Engine settings: the driver for each URL, pool options, SQLite pragmas and the JSON codec."""

from __future__ import annotations

import json

import orjson
from flask import Flask
from sqlalchemy import event

from server.db import db


def init_engine(app: Flask) -> None:
    """Bind the database to the app with the settings every connection needs."""
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url(app.config["DATABASE_URL"])
    app.config.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS",
        engine_options(
            app.config["DATABASE_URL"],
            app.config["DATABASE_TIMEOUT"],
            app.config["SQLITE_BUSY_TIMEOUT"],
        ),
    )
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)


def database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whichever spelling the operator gave."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def engine_options(url: str, timeout: int = 5, sqlite_wait: int = 30) -> dict:
    """`timeout`: seconds a request waits on PostgreSQL (connecting, a statement, a lock) before
    the outage answer (server/db/outage.py), 0 for no bound on statements (commands);
    `sqlite_wait`: seconds a SQLite write waits for another writer's lock before that answer."""
    # JSON columns (record data and meta, the change log, stored responses) are most of what a
    # push writes and a pull reads: orjson does them several times faster than json.
    codec = {"json_serializer": json_dumps, "json_deserializer": json_loads}
    if url.startswith("sqlite"):
        # sqlite3's `timeout` is SQLite's busy timeout. Longer than PostgreSQL's bound: SQLite's
        # waiting writers poll for the lock rather than queue for it, so under a burst a write
        # can wait seconds behind others that are each quick (5 s gave a 503 with 30 phones
        # on a busy 2-core machine).
        return {"connect_args": {"timeout": sqlite_wait}, **codec}
    connect: dict[str, object] = {"connect_timeout": timeout or 30}
    if timeout:
        # Server-side bound on each statement, waits for the counter row's lock included; a
        # dead peer is noticed by TCP within the same time.
        connect.update(
            options=f"-c statement_timeout={timeout * 1000}", tcp_user_timeout=timeout * 1000
        )
    return {
        "pool_pre_ping": True,
        "pool_size": 5,
        "max_overflow": 10,
        "pool_timeout": timeout or 30,
        "connect_args": connect,
        **codec,
    }


def json_dumps(value) -> str:
    """Compact JSON text. What orjson refuses (non-string keys such as marshmallow's list-index
    errors, integers past 64 bits, lone surrogates) goes to json, which writes it as before.

    NaN and infinities, which only a rejected change's raw data can hold, are written as null
    (json would write NaN, which is not JSON and which PostgreSQL refuses).
    """
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(value, separators=(",", ":"))


def json_loads(text: str | bytes):
    """orjson's reader, falling back to json for what only json reads (NaN, Infinity).

    Integers past 64 bits, which only a rejected change's raw data can hold, read as floats.
    """
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


SQLITE_CACHE_KIB = 128 * 1024


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets pulls read while a push writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # A checkpoint copies the latest version of each page the WAL holds into the database file,
    # in the commit that passes the mark. A push rewrites the same index pages batch after
    # batch: at SQLite's default mark (1,000 pages, 4 MB) nearly every push of 500 records paid
    # for one, and 8 phones pushing at once went 10% faster with it at 40 MB. A process crash
    # loses nothing either way. On power loss, synchronous=NORMAL can already lose commits the
    # WAL holds unsynced (since the last checkpoint, or the OS's writeback, about 30 s); at
    # full load the larger mark widens that from about one push to about ten.
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    # The busy timeout is sqlite3's `timeout` connect argument (engine_options).
    # A push writes into a dozen B-trees keyed by random record ids; with SQLite's default 2 MB
    # page cache each write re-reads its pages from the OS once the database outgrows it, which
    # tripled a push's cost at 20,000 records. Pages are only allocated as they are used.
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()
    # SQLite's own lower() folds ASCII only; a subject access search needs "ZOË" to match "zoë"
    # (server/records/subject_access.py), as PostgreSQL's lower() does.
    dbapi_connection.create_function("unicode_lower", 1, _unicode_lower, deterministic=True)


def _unicode_lower(value):
    return value.lower() if isinstance(value, str) else value
