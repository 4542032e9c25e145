"""The database check `beatbook serve` (and every other command) makes before it does anything.

A database that cannot be reached is a configuration mistake, said in one line, before gunicorn
listens: otherwise the server answers 200 on / and 500 on the first sign-in.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from server.config import ConfigError
from server.db import db


def check_database(app: Flask, *, schema: bool = True) -> None:
    """Connect once (and, with schema, check the tables are there); ConfigError if not."""
    with app.app_context():
        where = db.engine.url.render_as_string(hide_password=True)
        try:
            with db.engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
                if schema:
                    check_schema(connection)
        except sa.exc.DBAPIError as exc:
            raise ConfigError(
                f"BEATBOOK_DATABASE_URL: cannot use the database {where}: {one_line(exc.orig)}"
            ) from None
        finally:
            db.engine.dispose()  # gunicorn forks after this: no connection may cross the fork


def check_schema(connection: sa.Connection) -> None:
    """The database holds Beatbook's tables. (Whether they are at the code's revision is the
    app factory's check, server.db.migrate.refuse_unless_at_head, which names the command.)"""
    if not sa.inspect(connection).has_table("sync_counter"):
        url = connection.engine.url.render_as_string(hide_password=True)
        raise ConfigError(
            f"BEATBOOK_DATABASE_URL: {url} has no Beatbook tables yet; run `beatbook init-db` first"
        )


def one_line(error: BaseException | None) -> str:
    """A driver's error message on one line."""
    return "; ".join(line.strip() for line in str(error).splitlines() if line.strip())
