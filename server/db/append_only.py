"""The access log is append-only in the database itself, not only in the app (issue 11 item 12).

`server.web.audit` refuses edits made through the ORM; these triggers refuse every UPDATE and
DELETE of an access_log row (and, on PostgreSQL, TRUNCATE) whoever sends it, so neither a bug
nor someone with the application's database credentials can quietly rewrite who saw what.
Dropping the table is still possible for the database owner: keep that role separate.
"""

from __future__ import annotations

import sqlalchemy as sa

from server.db import db

MESSAGE = "access_log is append-only: entries cannot be changed or deleted"

SQLITE_DDL = [
    f"""CREATE TRIGGER IF NOT EXISTS access_log_no_update BEFORE UPDATE ON access_log
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS access_log_no_delete BEFORE DELETE ON access_log
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]

POSTGRESQL_DDL = [
    f"""CREATE OR REPLACE FUNCTION access_log_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege'; END $$""",
    "DROP TRIGGER IF EXISTS access_log_append_only ON access_log",
    """CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
        FOR EACH ROW EXECUTE FUNCTION access_log_refuse()""",
    "DROP TRIGGER IF EXISTS access_log_no_truncate ON access_log",
    """CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
        FOR EACH STATEMENT EXECUTE FUNCTION access_log_refuse()""",
]


def install_append_only() -> None:
    """Create the triggers; running it again changes nothing."""
    dialect = db.engine.dialect.name
    statements = {"sqlite": SQLITE_DDL, "postgresql": POSTGRESQL_DDL}.get(dialect, [])
    with db.engine.begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))
