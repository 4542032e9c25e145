"""Commit watermark (issue 12): on PostgreSQL, sequence numbers come from the sequence
`record_seq`, so writers of different records no longer queue on the sync counter row; it
starts after the counter's value. SQLite keeps the counter row (it has one writer at a time).

Revision ID: v1_2_0_commit_watermark
Revises: v1_2_0_console
Create Date: 2026-12-03
"""

from alembic import op

revision = "v1_2_0_commit_watermark"
down_revision = "v1_2_0_console"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE SEQUENCE IF NOT EXISTS record_seq AS BIGINT")
    # After every seq given so far: the counter's, any a record or change holds, and the
    # sequence's own when it was there already (init-db made it).
    op.execute(
        "SELECT setval('record_seq', GREATEST(top, 1), top > 0) FROM (SELECT GREATEST("
        "(SELECT value FROM sync_counter WHERE id = 1), "
        "(SELECT MAX(seq) FROM record), (SELECT MAX(seq) FROM change), "
        "(SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM record_seq)) AS top) AS t"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # The counter takes over where the sequence stopped, so no cursor given goes back.
    op.execute(
        "UPDATE sync_counter SET value = (SELECT CASE WHEN is_called THEN last_value "
        "ELSE last_value - 1 END FROM record_seq) WHERE id = 1"
    )
    op.execute("DROP SEQUENCE IF EXISTS record_seq")
