"""Beatbook 1.0.0 (1.0.0 = commit ba8137e): the schema its `beatbook init-db` made.

Every table of the models at 1.0.0, the sync counter row, the assessment rollup tables (which
1.0.0 also made on demand, in databases made before them), and the full-text search objects of
server/search.py at 1.0.0: on SQLite an external-content FTS5 table over record.summary and
follow_up kept by triggers, on PostgreSQL a stored generated tsvector column with a GIN index.

The definitions are frozen copies, not imports of the models: this revision must make 1.0.0's
schema whatever the models become. server.db.migrate.adopt_1_0_0 reuses create_rollup_tables and
create_search for 1.0.0 databases that predate migrations.

Revision ID: v1_0_0
Revises:
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # as the models spell it

revision = "v1_0_0"
down_revision = None
branch_labels = None
depends_on = None

ROLLUP_TABLES = (
    "assessment_month",
    "assessment_month_officer",
    "assessment_month_group",
    "assessment_month_contact",
    "assessment_month_series",
    "assessment_rollup_state",
)
CORE_TABLES = (
    "team",
    "user_account",
    "supervisor_team",
    "device",
    "record",
    "record_standard",
    "record_group",
    "change",
    "conflict",
    "sync_batch",
    "sync_counter",
    "auth_failure",
    "access_log",
    "planned_meeting",
    "assessment_fact",
    "assessment_code",
    "assessment_state",
)


def upgrade() -> None:
    create_core_tables(op)
    create_rollup_tables(op)
    create_search(op)
    op.execute("INSERT INTO sync_counter (id, value) VALUES (1, 0)")


def downgrade() -> None:
    raise RuntimeError(
        "v1_0_0 is the first revision: to go back, restore a backup "
        "(docs/operations.md, 'Rolling back')."
    )


def create_core_tables(op) -> None:
    op.create_table(
        "assessment_code",
        sa.Column("family", sa.String(length=10), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("bit", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("family", "code"),
    )
    op.create_table(
        "assessment_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "auth_failure",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=140), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_auth_failure_key_at", "auth_failure", ["key", "at"])
    op.create_table(
        "sync_batch",
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "batch_id"),
    )
    op.create_table(
        "sync_counter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "team",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("area", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["team.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_index("ix_user_account_team_id", "user_account", ["team_id"])
    op.create_table(
        "access_log",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target_type", sa.String(length=40), nullable=False),
        sa.Column("target_id", sa.String(length=80), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_access_log_action_at", "access_log", ["action", "at"])
    op.create_index("ix_access_log_at", "access_log", ["at"])
    op.create_index("ix_access_log_target", "access_log", ["target_type", "target_id"])
    op.create_index("ix_access_log_user_id", "access_log", ["user_id"])
    op.create_table(
        "change",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("op", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("hlc", sa.String(length=90), nullable=True),
        sa.Column("effective_hlc", sa.String(length=90), nullable=True),
        sa.Column("base_rev", sa.Integer(), nullable=True),
        sa.Column("rev", sa.Integer(), nullable=True),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=True),
        sa.Column("conflicts", sa.JSON(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("device_id", sa.String(length=32), nullable=True),
        sa.Column("batch_id", sa.String(length=64), nullable=True),
        sa.Column("occurred_at", sa.DateTime(), nullable=True),
        sa.Column("device_time", sa.String(length=40), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_change_record_hlc", "change", ["record_id", "hlc"])
    op.create_table(
        "device",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(), nullable=True),
        sa.Column("last_sync_at", sa.DateTime(), nullable=True),
        sa.Column("device_now", sa.String(length=40), nullable=True),
        sa.Column("clock_skew_ms", sa.BigInteger(), nullable=True),
        sa.Column("pending", sa.Integer(), nullable=True),
        sa.Column("app_version", sa.String(length=40), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.Column("last_address", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"],
            ["user_account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_device_last_sync", "device", ["last_sync_at"])
    op.create_index("ix_device_user_id", "device", ["user_id"])
    op.create_table(
        "planned_meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["team.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_planned_meeting_team_start", "planned_meeting", ["team_id", "starts_at"])
    op.create_table(
        "record",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=True),
        sa.Column("rev", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("follow_up", sa.Text(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("people_count", sa.Integer(), nullable=True),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        sa.Column("publicised_at", sa.DateTime(), nullable=True),
        sa.Column("contact_role", sa.String(length=120), nullable=False),
        sa.Column("contact_org", sa.String(length=120), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("review_state", sa.String(length=12), nullable=False),
        sa.Column("review_comment", sa.Text(), nullable=False),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.Column("open_conflicts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["officer_id"],
            ["user_account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"],
            ["user_account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["team.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seq"),
    )
    op.create_index(
        "ix_record_conflicted",
        "record",
        ["occurred_at", "id"],
        sqlite_where=sa.text("open_conflicts > 0"),
        postgresql_where=sa.text("open_conflicts > 0"),
    )
    op.create_index("ix_record_kind_time_id", "record", ["kind", "occurred_at", "id"])
    op.create_index("ix_record_officer_created", "record", ["officer_id", "created_at"])
    op.create_index("ix_record_officer_time", "record", ["officer_id", "occurred_at"])
    op.create_index("ix_record_review_time_id", "record", ["review_state", "occurred_at", "id"])
    op.create_index("ix_record_team_kind_time", "record", ["team_id", "kind", "occurred_at"])
    op.create_index("ix_record_team_seq", "record", ["team_id", "seq"])
    op.create_index("ix_record_team_time_id", "record", ["team_id", "occurred_at", "id"])
    op.create_index("ix_record_time_id", "record", ["occurred_at", "id"])
    op.create_table(
        "supervisor_team",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["team.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
        ),
        sa.PrimaryKeyConstraint("user_id", "team_id"),
    )
    op.create_table(
        "assessment_fact",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("review_state", sa.String(length=12), nullable=False),
        sa.Column("people_count", sa.Integer(), nullable=True),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        sa.Column("notice_seconds", sa.BigInteger(), nullable=True),
        sa.Column("std_mask", sa.BigInteger(), nullable=False),
        sa.Column("group_mask", sa.BigInteger(), nullable=False),
        sa.Column("contact_role", sa.String(length=120), nullable=False),
        sa.Column("contact_org", sa.String(length=120), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["record.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("team_id", "occurred_at", "record_id"),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_assessment_fact_kind",
        "assessment_fact",
        [
            "team_id",
            "kind",
            "occurred_at",
            "deleted",
            "review_state",
            "contact_role",
            "contact_org",
        ],
    )
    op.create_index("ix_assessment_fact_record", "assessment_fact", ["record_id"], unique=True)
    op.create_table(
        "conflict",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("winner", sa.JSON(), nullable=False),
        sa.Column("loser", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolution", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["record.id"],
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["user_account.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_conflict_record_id", "conflict", ["record_id"])
    op.create_index("ix_conflict_status", "conflict", ["status", "record_id"])
    op.create_table(
        "record_group",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["record.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("record_id", "code"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_record_group_code", "record_group", ["code", "record_id"])
    op.create_table(
        "record_standard",
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["record.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("record_id", "code"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_record_standard_code", "record_standard", ["code", "record_id"])
    if op.get_bind().dialect.name == "postgresql":
        # PostgreSQL keeps rows in a heap: this lets the period scan read the index alone.
        op.create_index(
            "ix_assessment_fact_scan",
            "assessment_fact",
            ["team_id", "occurred_at"],
            postgresql_include=[
                "officer_id",
                "kind",
                "deleted",
                "review_state",
                "people_count",
                "duration_minutes",
                "notice_seconds",
                "std_mask",
                "group_mask",
            ],
        )


def create_rollup_tables(op, only=ROLLUP_TABLES) -> None:
    wanted = set(only)
    if "assessment_month" in wanted:
        op.create_table(
            "assessment_month",
            sa.Column("team_id", sa.Integer(), nullable=False),
            sa.Column("month", sa.Date(), nullable=False),
            sa.Column("kind", sa.String(length=40), nullable=False),
            sa.Column("std_mask", sa.BigInteger(), nullable=False),
            sa.Column("returned", sa.Boolean(), nullable=False),
            sa.Column("notice_day", sa.Integer(), nullable=False),
            sa.Column("records", sa.Integer(), nullable=False),
            sa.Column("people_sum", sa.BigInteger(), nullable=False),
            sa.Column("people_n", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint(
                "team_id", "month", "kind", "std_mask", "returned", "notice_day"
            ),
            sqlite_with_rowid=False,
        )
    if "assessment_month_officer" in wanted:
        op.create_table(
            "assessment_month_officer",
            sa.Column("team_id", sa.Integer(), nullable=False),
            sa.Column("month", sa.Date(), nullable=False),
            sa.Column("officer_id", sa.Integer(), nullable=False),
            sa.Column("returned", sa.Boolean(), nullable=False),
            sa.Column("records", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("team_id", "month", "officer_id", "returned"),
            sqlite_with_rowid=False,
        )
    if "assessment_month_group" in wanted:
        op.create_table(
            "assessment_month_group",
            sa.Column("team_id", sa.Integer(), nullable=False),
            sa.Column("month", sa.Date(), nullable=False),
            sa.Column("bit", sa.Integer(), nullable=False),
            sa.Column("returned", sa.Boolean(), nullable=False),
            sa.Column("records", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("team_id", "month", "bit", "returned"),
            sqlite_with_rowid=False,
        )
    if "assessment_month_contact" in wanted:
        op.create_table(
            "assessment_month_contact",
            sa.Column("team_id", sa.Integer(), nullable=False),
            sa.Column("month", sa.Date(), nullable=False),
            sa.Column("kind", sa.String(length=40), nullable=False),
            sa.Column("std_mask", sa.BigInteger(), nullable=False),
            sa.Column("returned", sa.Boolean(), nullable=False),
            sa.Column("role_key", sa.String(length=120), nullable=False),
            sa.Column("org_key", sa.String(length=120), nullable=False),
            sa.Column("first_at", sa.DateTime(), nullable=False),
            sa.Column("last_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint(
                "team_id", "month", "kind", "std_mask", "returned", "role_key", "org_key"
            ),
            sqlite_with_rowid=False,
        )
    if "assessment_month_series" in wanted:
        op.create_table(
            "assessment_month_series",
            sa.Column("team_id", sa.Integer(), nullable=False),
            sa.Column("month", sa.Date(), nullable=False),
            sa.Column("kind", sa.String(length=40), nullable=False),
            sa.Column("with_returned", sa.Boolean(), nullable=False),
            sa.Column("records", sa.Integer(), nullable=False),
            sa.Column("first_at", sa.DateTime(), nullable=False),
            sa.Column("last_at", sa.DateTime(), nullable=False),
            sa.Column("inner_gap", sa.BigInteger(), nullable=True),
            sa.PrimaryKeyConstraint("team_id", "month", "kind", "with_returned"),
            sqlite_with_rowid=False,
        )
    if "assessment_rollup_state" in wanted:
        op.create_table(
            "assessment_rollup_state",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("tz", sa.String(length=64), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )


FTS_TABLE = "record_fts"
SQLITE_SEARCH = [
    f"""CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(
        summary, follow_up, content='record', content_rowid='seq',
        tokenize='porter unicode61 remove_diacritics 2')""",
    f"""CREATE TRIGGER IF NOT EXISTS record_fts_insert AFTER INSERT ON record BEGIN
        INSERT INTO {FTS_TABLE}(rowid, summary, follow_up)
        VALUES (new.seq, new.summary, new.follow_up);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS record_fts_delete AFTER DELETE ON record BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, summary, follow_up)
        VALUES ('delete', old.seq, old.summary, old.follow_up);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS record_fts_update AFTER UPDATE OF summary, follow_up, seq
        ON record BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, summary, follow_up)
        VALUES ('delete', old.seq, old.summary, old.follow_up);
        INSERT INTO {FTS_TABLE}(rowid, summary, follow_up)
        VALUES (new.seq, new.summary, new.follow_up);
    END""",
]
POSTGRESQL_SEARCH = [
    """ALTER TABLE record ADD COLUMN IF NOT EXISTS search_doc tsvector
        GENERATED ALWAYS AS (to_tsvector('english'::regconfig,
            coalesce(summary, '') || ' ' || coalesce(follow_up, ''))) STORED""",
    "CREATE INDEX IF NOT EXISTS ix_record_search_doc ON record USING gin (search_doc)",
    "DROP INDEX IF EXISTS ix_record_fulltext",  # the expression index of a pre-1.0.0 build
]


def create_search(op, rebuild: bool = False) -> None:
    """The search objects (each statement is safe to run again). `rebuild`: refill the SQLite
    index from the records, for a database whose FTS table was only now made."""
    dialect = op.get_bind().dialect.name
    had_fts = dialect == "sqlite" and sa.inspect(op.get_bind()).has_table(FTS_TABLE)
    for statement in SQLITE_SEARCH if dialect == "sqlite" else POSTGRESQL_SEARCH:
        op.execute(statement)
    if rebuild and dialect == "sqlite" and not had_fts:
        op.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
