"""Data protection (issue 13): record.pii_confirmed, record.restricted, record.redaction.

- record: pii_confirmed BOOLEAN NOT NULL DEFAULT false (the officer kept text flagged as
  personal data), restricted BOOLEAN NOT NULL DEFAULT false, redaction JSON NULL (which free
  text was removed, how, when, by whom).
- PostgreSQL: the generated search column `search_doc` is dropped and added again after the new
  columns, so a migrated table has the columns in the order init-db makes them (the tsvectors
  are computed afresh; its GIN index goes with it and is made again). The DDL is a frozen copy
  of server/db/search.py's.

Plain ADD COLUMN (SQLite allows NOT NULL with a default): no batch copy of `record`, so its FTS
triggers stay as they are.

Revision ID: v1_2_0_data_protection
Revises: v1_2_0_oidc
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "v1_2_0_data_protection"
down_revision = "v1_2_0_oidc"
branch_labels = None
depends_on = None

PG_SEARCH = [
    """ALTER TABLE record ADD COLUMN IF NOT EXISTS search_doc tsvector
        GENERATED ALWAYS AS (to_tsvector('english'::regconfig,
            coalesce(summary, '') || ' ' || coalesce(follow_up, ''))) STORED""",
    "CREATE INDEX IF NOT EXISTS ix_record_search_doc ON record USING gin (search_doc)",
]


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute("ALTER TABLE record DROP COLUMN IF EXISTS search_doc")
    op.add_column(
        "record",
        sa.Column("pii_confirmed", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "record", sa.Column("restricted", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("record", sa.Column("redaction", sa.JSON(), nullable=True))
    if postgresql:
        for statement in PG_SEARCH:
            op.execute(statement)


def downgrade() -> None:
    # Erased text cannot come back; only the columns go.
    for name in ("redaction", "restricted", "pii_confirmed"):
        op.drop_column("record", name)
