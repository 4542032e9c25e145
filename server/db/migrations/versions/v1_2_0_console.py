"""Console (issue 17): the logs page can sort by when a record reached the server.

- record: index ix_record_created_id on (created_at, id), which serves that order and the keyset
  cut of its pages as ix_record_time_id serves (occurred_at, id).
- record: partial index ix_record_deleted on (occurred_at, id) WHERE deleted, so the deleted
  records' list and its count (the list now says how many match) read only deleted records.
No row changes.

Revision ID: v1_2_0_console
Revises: v1_2_0_data_protection
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "v1_2_0_console"
down_revision = "v1_2_0_data_protection"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_record_created_id", "record", ["created_at", "id"])
    op.create_index(
        "ix_record_deleted",
        "record",
        ["occurred_at", "id"],
        sqlite_where=sa.text("deleted IS 1"),
        postgresql_where=sa.text("deleted IS true"),
    )


def downgrade() -> None:
    op.drop_index("ix_record_deleted", table_name="record")
    op.drop_index("ix_record_created_id", table_name="record")
