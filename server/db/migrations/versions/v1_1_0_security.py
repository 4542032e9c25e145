"""Security review (issue 11): server-side console sessions, password reset, access log device
and session, and the access log made append-only by triggers.

- user_account: must_change_password BOOLEAN NOT NULL DEFAULT false, password_changed_at
  DATETIME NULL.
- access_log: device_id VARCHAR(32) NULL, session_id VARCHAR(64) NULL.
- console_session: id_hash VARCHAR(64) PK, user_id FK user_account (indexed), started_at,
  last_seen_at, ended_at NULL, ended_reason VARCHAR(20), address VARCHAR(64).
- Triggers refusing UPDATE and DELETE of access_log rows (and TRUNCATE on PostgreSQL); the DDL
  is a frozen copy of server/db/append_only.py's.

Revision ID: v1_1_0_security
Revises: v1_0_0
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "v1_1_0_security"
down_revision = "v1_0_0"
branch_labels = None
depends_on = None

MESSAGE = "access_log is append-only: entries cannot be changed or deleted"
SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER IF NOT EXISTS access_log_no_update BEFORE UPDATE ON access_log
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS access_log_no_delete BEFORE DELETE ON access_log
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]
POSTGRESQL_TRIGGERS = [
    f"""CREATE OR REPLACE FUNCTION access_log_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege'; END $$""",
    "DROP TRIGGER IF EXISTS access_log_append_only ON access_log",
    """CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
        FOR EACH ROW EXECUTE FUNCTION access_log_refuse()""",
    "DROP TRIGGER IF EXISTS access_log_no_truncate ON access_log",
    """CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
        FOR EACH STATEMENT EXECUTE FUNCTION access_log_refuse()""",
]


def upgrade() -> None:
    # Plain ADD COLUMN (SQLite allows NOT NULL with a default): a batch copy of user_account
    # would have to untangle the foreign keys every other table holds to it.
    op.add_column(
        "user_account",
        sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("user_account", sa.Column("password_changed_at", sa.DateTime(), nullable=True))
    op.add_column("access_log", sa.Column("device_id", sa.String(32), nullable=True))
    op.add_column("access_log", sa.Column("session_id", sa.String(64), nullable=True))
    op.create_table(
        "console_session",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("ended_reason", sa.String(20), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
    )
    op.create_index("ix_console_session_user_id", "console_session", ["user_id"])
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRESQL_TRIGGERS}.get(
        dialect, []
    ):
        op.execute(statement)


def downgrade() -> None:
    raise RuntimeError(
        "Beatbook does not migrate down: to go back, restore the backup taken "
        "before the upgrade (docs/operations.md, 'Rolling back')."
    )
