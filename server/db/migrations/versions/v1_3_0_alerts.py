"""Alerts (issue 15): what the alert rules and the daily digest need.

- planned_meeting.publicised_at: when the team publicised a meeting, so a meeting coming up
  announced too late to count raises an alert. A meeting already planned was publicised on the
  team's public page when it was announced there: its created_at.
- user_account.email: where a supervisor's daily digest goes (NULL: no digest).
- alert_dismissal: a supervisor's dismissal of one alert, with the note that says why.
New nullable columns and a new table: every row is kept.

Revision ID: v1_3_0_alerts
Revises: v1_2_0_commit_watermark
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "v1_3_0_alerts"
down_revision = "v1_2_0_commit_watermark"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("planned_meeting") as batch:
        batch.add_column(sa.Column("publicised_at", sa.DateTime(), nullable=True))
    op.execute("UPDATE planned_meeting SET publicised_at = created_at")
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("email", sa.String(length=254), nullable=True))
    op.create_table(
        "alert_dismissal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.String(length=120), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("dismissed_by_id", sa.Integer(), nullable=False),
        sa.Column("dismissed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["dismissed_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_alert_dismissal_team_alert", "alert_dismissal", ["team_id", "alert_id"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ix_alert_dismissal_team_alert", table_name="alert_dismissal")
    op.drop_table("alert_dismissal")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("email")
    with op.batch_alter_table("planned_meeting") as batch:
        batch.drop_column("publicised_at")
