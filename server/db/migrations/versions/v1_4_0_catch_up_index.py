"""Catch-up index (issue 12): a push no longer writes record_standard and record_group; they
are caught up from record.seq after the commit and before any read of them
(server/records/codes.py). catch_up_state holds how far each such index has got.

The rows that exist were written by the pushes that made them, so they are current: the mark
starts at the highest seq a record holds. No row is changed or dropped.

Revision ID: v1_4_0_catch_up_index
Revises: v1_3_0_alerts
Create Date: 2026-12-05
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "v1_4_0_catch_up_index"
down_revision = "v1_3_0_alerts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catch_up_state",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.execute(
        "INSERT INTO catch_up_state (name, seq) SELECT 'codes', COALESCE(MAX(seq), 0) FROM record"
    )


def downgrade() -> None:
    # The version before this one writes the rows in the push: first make them all current,
    # since it would never write the ones still behind. A downgrade runs with the server
    # stopped, so nothing is in flight.
    bind = op.get_bind()
    mark = bind.execute(sa.text("SELECT seq FROM catch_up_state WHERE name = 'codes'")).scalar()
    behind = bind.execute(
        sa.text("SELECT id, data FROM record WHERE seq > :mark"), {"mark": mark or 0}
    ).all()
    for table, name in (("record_standard", "standards"), ("record_group", "groups")):
        for record_id, data in behind:
            if isinstance(data, str):  # SQLite hands JSON back as text here
                data = json.loads(data)
            bind.execute(sa.text(f"DELETE FROM {table} WHERE record_id = :id"), {"id": record_id})
            for code in sorted(set((data or {}).get(name) or [])):
                bind.execute(
                    sa.text(f"INSERT INTO {table} (record_id, code) VALUES (:id, :code)"),
                    {"id": record_id, "code": code},
                )
    op.drop_table("catch_up_state")
