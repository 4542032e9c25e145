"""Single sign-on through the force's identity provider (issue 16).

- user_account: oidc_issuer VARCHAR(300) NULL, oidc_subject VARCHAR(255) NULL, oidc_refresh TEXT
  NULL, oidc_checked_at DATETIME NULL, oidc_left BOOLEAN NOT NULL DEFAULT false; a unique index
  on (oidc_issuer, oidc_subject). Every existing account keeps its password and gets NULLs.
- sign_in_handoff: code_hash VARCHAR(64) PK, user_id FK user_account (indexed), created_at,
  used_at NULL.

Revision ID: v1_2_0_oidc
Revises: v1_1_0_security
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "v1_2_0_oidc"
down_revision = "v1_1_0_security"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, as in v1_1_0: a batch copy of user_account would have to untangle the
    # foreign keys every other table holds to it.
    op.add_column("user_account", sa.Column("oidc_issuer", sa.String(300), nullable=True))
    op.add_column("user_account", sa.Column("oidc_subject", sa.String(255), nullable=True))
    op.add_column("user_account", sa.Column("oidc_refresh", sa.Text(), nullable=True))
    op.add_column("user_account", sa.Column("oidc_checked_at", sa.DateTime(), nullable=True))
    op.add_column(
        "user_account",
        sa.Column("oidc_left", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index(
        "ix_user_account_oidc", "user_account", ["oidc_issuer", "oidc_subject"], unique=True
    )
    op.create_table(
        "sign_in_handoff",
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_sign_in_handoff_user_id", "sign_in_handoff", ["user_id"])


def downgrade() -> None:
    raise RuntimeError(
        "Beatbook does not migrate down: to go back, restore the backup taken "
        "before the upgrade (docs/operations.md, 'Rolling back')."
    )
