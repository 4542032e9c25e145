"""When the database is away: answer 503 `unavailable` with Retry-After, and recover by itself.

A database that cannot be reached, is locked past the wait allowed, or refuses writes (a
read-only or full disk) is an outage, not a bug: the phone keeps its queue and retries, so the
answer is 503 with Retry-After rather than 500. Recovering needs nothing else on PostgreSQL
(pool pre-ping replaces dead connections). SQLite opens a connection read-only when its file is
not writable at that moment, and such a connection stays read-only after the file is writable
again; so a connection that failed that way is thrown away, and the next request opens afresh.
"""

from __future__ import annotations

from flask import Flask, request
from sqlalchemy import event
from sqlalchemy import exc as sa_exc

from server.db import db
from server.errors import Code, error_response, wants_json

RETRY_AFTER_SECONDS = 10
# SQLite results after which the connection cannot be trusted to write again.
_SQLITE_BROKEN = (
    "SQLITE_READONLY",
    "SQLITE_IOERR",
    "SQLITE_CANTOPEN",
    "SQLITE_FULL",
    "SQLITE_CORRUPT",
    "SQLITE_NOTADB",
)
_SQLITE_BROKEN_TEXT = (
    "readonly database",
    "disk i/o error",
    "unable to open database",
    "database or disk is full",
)


def init_app(app: Flask) -> None:
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "handle_error", _discard_broken_sqlite)

    @app.errorhandler(sa_exc.OperationalError)
    @app.errorhandler(sa_exc.TimeoutError)  # no pooled connection came free in time
    @app.errorhandler(sa_exc.InterfaceError)
    def _database_unavailable(exc: Exception):
        app.logger.warning(
            "Database unavailable on %s %s: %s",
            request.method,
            request.path,
            str(exc).splitlines()[0][:300],
        )
        return unavailable()


def unavailable():
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if not wants_json():
        return ("The database is unavailable for a moment; try again shortly.", 503, headers)
    return error_response(
        Code.UNAVAILABLE,
        f"The server cannot reach its database just now. Send the same request again in "
        f"{RETRY_AFTER_SECONDS} seconds (a batch is applied once however often it arrives).",
        headers=headers,
    )


# A wait that ran out: SQLite's lock (busy or locked), PostgreSQL's statement timeout
# (query_canceled) or lock timeout (lock_not_available).
_SQLITE_WAITS = ("SQLITE_BUSY", "SQLITE_LOCKED")
_POSTGRES_WAITS = ("57014", "55P03")


def ran_out_waiting(exc: sa_exc.DBAPIError) -> bool:
    """Whether a database error is a wait that ran out under load, not a fault (a missing
    table, a full disk): a caller that can do without the answer may say so in one line."""
    error = exc.orig
    name = getattr(error, "sqlite_errorname", "") or ""
    return (
        name.startswith(_SQLITE_WAITS)
        or getattr(error, "sqlstate", None) in _POSTGRES_WAITS
        or "database is locked" in str(error)
    )


def _discard_broken_sqlite(context) -> None:
    """Mark the connection as lost (SQLAlchemy then closes it and empties the pool)."""
    error = context.original_exception
    name = getattr(error, "sqlite_errorname", "") or ""
    text = str(error).lower()
    if name.startswith(_SQLITE_BROKEN) or any(t in text for t in _SQLITE_BROKEN_TEXT):
        context.is_disconnect = True
