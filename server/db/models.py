"""The database: teams, people, devices, records, the append-only change log, conflicts.

Times are naive UTC throughout the database (SQLite has no time zones); edges convert.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from server.clock import utcnow
from server.db import db

if TYPE_CHECKING:
    # At runtime db.Model is a class Flask-SQLAlchemy builds from Base; mypy cannot see
    # through that variable, so the models are type-checked against Base itself.
    from server.db import Base as Model
else:
    Model = db.Model

ROLES = ("officer", "supervisor", "admin", "panel")
REVIEW_STATES = ("pending", "approved", "returned")
# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL wants BIGINT for big logs.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class Team(Model):
    __tablename__ = "team"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    area: Mapped[str] = mapped_column(sa.String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Model):
    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(80), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(120), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(12))
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("team.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set by an admin's password reset: the user must choose a new password before signing in.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    password_changed_at: Mapped[datetime | None]
    # Signed in through the force's identity provider (server/oidc/): matched by the provider's
    # issuer and stable subject, never by email. The refresh token (encrypted with a key from
    # SECRET_KEY) lets Beatbook ask the provider whether the account still exists; oidc_left is
    # set when the provider said it did not, so a later sign-in there may reactivate it.
    oidc_issuer: Mapped[str | None] = mapped_column(sa.String(300))
    oidc_subject: Mapped[str | None] = mapped_column(sa.String(255))
    oidc_refresh: Mapped[str | None] = mapped_column(sa.Text)
    oidc_checked_at: Mapped[datetime | None]
    oidc_left: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Where the daily alerts digest goes (issue 15); no address, no digest.
    email: Mapped[str | None] = mapped_column(sa.String(254))

    team: Mapped[Team | None] = relationship()
    supervised: Mapped[list[Team]] = relationship(secondary="supervisor_team")

    def team_ids(self) -> set[int] | None:
        """Teams whose records this user may see; None means every team (admin, panel)."""
        if self.role in ("admin", "panel"):
            return None
        ids = {t.id for t in self.supervised} if self.role == "supervisor" else set()
        if self.team_id is not None:
            ids.add(self.team_id)
        return ids


sa.Index("ix_user_account_oidc", User.oidc_issuer, User.oidc_subject, unique=True)


class SupervisorTeam(Model):
    __tablename__ = "supervisor_team"
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("team.id"), primary_key=True)


class Device(Model):
    __tablename__ = "device"
    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    last_seen_at: Mapped[datetime | None]
    last_sync_at: Mapped[datetime | None]
    device_now: Mapped[str | None] = mapped_column(sa.String(40))
    clock_skew_ms: Mapped[int | None] = mapped_column(sa.BigInteger)
    pending: Mapped[int | None]
    app_version: Mapped[str | None] = mapped_column(sa.String(40))
    user_agent: Mapped[str | None] = mapped_column(sa.String(300))
    last_address: Mapped[str | None] = mapped_column(sa.String(64))

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class Record(Model):
    """The current state of one engagement record; `data` and `meta` are what sync merges."""

    __tablename__ = "record"
    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("team.id"))
    officer_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    device_id: Mapped[str | None] = mapped_column(sa.String(32))
    rev: Mapped[int]
    seq: Mapped[int] = mapped_column(sa.BigInteger, unique=True)
    deleted: Mapped[bool] = mapped_column(default=False)
    occurred_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(sa.String(40))
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    follow_up: Mapped[str] = mapped_column(sa.Text, default="")
    place: Mapped[str] = mapped_column(sa.String(200), default="")
    people_count: Mapped[int | None]
    duration_minutes: Mapped[int | None]
    publicised_at: Mapped[datetime | None]
    contact_role: Mapped[str] = mapped_column(sa.String(120), default="")
    contact_org: Mapped[str] = mapped_column(sa.String(120), default="")
    public: Mapped[bool] = mapped_column(default=False)
    data: Mapped[dict] = mapped_column(sa.JSON)
    meta: Mapped[list] = mapped_column(
        sa.JSON
    )  # field stamps, packed (server.sync.store.pack_meta)
    review_state: Mapped[str] = mapped_column(sa.String(12), default="pending")
    review_comment: Mapped[str] = mapped_column(sa.Text, default="")
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime | None]
    open_conflicts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Data protection (issue 13), last because a migration adds them: the officer kept text
    # the app flagged as personal data (a record field, so phones send it); a restricted
    # record is hidden from all but admins and left out of exports and public pages, still
    # counted; `redaction` says which free text was removed, how (retention or erasure), when
    # and by whom, and those fields stay sealed against later writes.
    pii_confirmed: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    restricted: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    redaction: Mapped[dict | None] = mapped_column(sa.JSON(none_as_null=True))

    team: Mapped[Team] = relationship()
    officer: Mapped[User] = relationship(foreign_keys=[officer_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])

    # Every index is paid for on every push (see docs/architecture.md, "Write cost"): the time
    # ranges (occurred_at) and (team_id, occurred_at) are served by the console's *_time_id
    # indexes below, which extend them.
    __table_args__ = (
        sa.Index("ix_record_team_kind_time", "team_id", "kind", "occurred_at"),
        sa.Index("ix_record_officer_time", "officer_id", "occurred_at"),
        sa.Index("ix_record_team_seq", "team_id", "seq"),
    )


class _RecordCodes:
    """One row per code of a record's list field, so filters and aggregates are SQL."""

    record_id: Mapped[str] = mapped_column(
        sa.ForeignKey("record.id", ondelete="CASCADE"), primary_key=True
    )

    @declared_attr.directive
    def __table_args__(cls):
        # Without a rowid the primary key is the table: two B-trees to write per row, not three.
        return (
            sa.PrimaryKeyConstraint("record_id", "code"),
            sa.Index(f"ix_{cls.__tablename__}_code", "code", "record_id"),
            {"sqlite_with_rowid": False},
        )


class RecordStandard(_RecordCodes, Model):
    """The standards a record evidences."""

    __tablename__ = "record_standard"
    code: Mapped[str] = mapped_column(sa.String(20), primary_key=True)


class RecordGroup(_RecordCodes, Model):
    """The groups a record reached."""

    __tablename__ = "record_group"
    code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)


class Change(Model):
    """The append-only change log: every change received and every supervisor action."""

    __tablename__ = "change"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(sa.String(36))
    op: Mapped[str] = mapped_column(sa.String(12))  # upsert delete review resolve
    status: Mapped[str] = mapped_column(sa.String(12))
    hlc: Mapped[str | None] = mapped_column(sa.String(90))
    effective_hlc: Mapped[str | None] = mapped_column(sa.String(90))
    base_rev: Mapped[int | None]
    rev: Mapped[int | None]
    seq: Mapped[int | None] = mapped_column(sa.BigInteger)
    data: Mapped[dict] = mapped_column(sa.JSON)
    errors: Mapped[dict | None] = mapped_column(sa.JSON)
    conflicts: Mapped[list | None] = mapped_column(sa.JSON)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    device_id: Mapped[str | None] = mapped_column(sa.String(32))
    batch_id: Mapped[str | None] = mapped_column(sa.String(64))
    occurred_at: Mapped[datetime | None]
    device_time: Mapped[str | None] = mapped_column(sa.String(40))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User | None] = relationship()

    # One index serves both the replay check (record, stamp) and a record's history (a record
    # has few changes, sorted by id after the lookup).
    __table_args__ = (sa.Index("ix_change_record_hlc", "record_id", "hlc"),)


class Conflict(Model):
    """A value that lost a concurrent edit, kept for a supervisor to review."""

    __tablename__ = "conflict"
    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[str] = mapped_column(sa.ForeignKey("record.id"), index=True)
    field: Mapped[str] = mapped_column(sa.String(40))
    winner: Mapped[dict] = mapped_column(sa.JSON)
    loser: Mapped[dict] = mapped_column(sa.JSON)
    status: Mapped[str] = mapped_column(sa.String(12), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[dict | None] = mapped_column(sa.JSON)

    record: Mapped[Record] = relationship()
    __table_args__ = (sa.Index("ix_conflict_status", "status", "record_id"),)


class SyncBatch(Model):
    """The stored answer to each batch, so a replayed batch gets the same answer."""

    __tablename__ = "sync_batch"
    device_id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    batch_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    response: Mapped[dict] = mapped_column(sa.JSON)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class SyncCounter(Model):
    """One row whose lock every write takes, so sequence numbers commit in order."""

    __tablename__ = "sync_counter"
    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class AuthFailure(Model):
    __tablename__ = "auth_failure"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(sa.String(140))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (sa.Index("ix_auth_failure_key_at", "key", "at"),)


class AccessLog(Model):
    """Who viewed, exported or changed what (DPA 2018 Part 3 s.62). Never updated or deleted."""

    __tablename__ = "access_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(40))
    target_type: Mapped[str] = mapped_column(sa.String(40), default="")
    target_id: Mapped[str] = mapped_column(sa.String(80), default="")
    detail: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    address: Mapped[str] = mapped_column(sa.String(64), default="")
    # Which phone (API reads) or console session (its id_hash) the entry came from.
    device_id: Mapped[str | None] = mapped_column(sa.String(32))
    session_id: Mapped[str | None] = mapped_column(sa.String(64))

    user: Mapped[User | None] = relationship()


# --- Console indexes (supervisor console): the logs page orders by (occurred_at, id) and cuts
# pages with a row-value comparison on that pair, so each common filter has an index ending in it.
sa.Index("ix_record_time_id", Record.occurred_at, Record.id)
sa.Index("ix_record_team_time_id", Record.team_id, Record.occurred_at, Record.id)
sa.Index("ix_record_review_time_id", Record.review_state, Record.occurred_at, Record.id)
sa.Index("ix_record_kind_time_id", Record.kind, Record.occurred_at, Record.id)
sa.Index("ix_record_officer_created", Record.officer_id, Record.created_at)  # activity: last synced
# The logs page sorted by when records reached the server ("what just synced").
sa.Index("ix_record_created_id", Record.created_at, Record.id)
# Few records have open conflicts: a partial index keeps that filter and the queue cheap.
sa.Index(
    "ix_record_conflicted",
    Record.occurred_at,
    Record.id,
    sqlite_where=Record.open_conflicts > 0,
    postgresql_where=Record.open_conflicts > 0,
)
# Deleted records are few too: their list and its count read this instead of every record.
sa.Index(
    "ix_record_deleted",
    Record.occurred_at,
    Record.id,
    sqlite_where=Record.deleted.is_(True),
    postgresql_where=Record.deleted.is_(True),
)
sa.Index("ix_access_log_action_at", AccessLog.action, AccessLog.at)
sa.Index("ix_access_log_target", AccessLog.target_type, AccessLog.target_id)
sa.Index("ix_device_last_sync", Device.last_sync_at)


# --- Assessment (server/assessment): meetings a team has announced, for the "coming up" list on
# its public page. Records cannot be in the future, so what is planned lives here; `title` is
# written for the public and is the only free text the public page shows besides public feedback.
class PlannedMeeting(Model):
    __tablename__ = "planned_meeting"
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("team.id"))
    kind: Mapped[str] = mapped_column(sa.String(40))
    starts_at: Mapped[datetime]  # naive UTC
    title: Mapped[str] = mapped_column(sa.String(200))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled: Mapped[bool] = mapped_column(default=False)
    # When the team announced it (issue 15's alert: a meeting must be publicised in time).
    publicised_at: Mapped[datetime | None]  # naive UTC
    __table_args__ = (sa.Index("ix_planned_meeting_team_start", "team_id", "starts_at"),)

    @classmethod
    def upcoming(cls, team_id: int, now: datetime) -> sa.Select[PlannedMeeting]:
        """A team's meetings not cancelled and not yet started, soonest first."""
        return (
            sa.select(cls)
            .where(cls.team_id == team_id, cls.cancelled == sa.false(), cls.starts_at >= now)
            .order_by(cls.starts_at)
        )


class AssessmentFact(Model):
    """Each record's countable columns, narrow, with its standards and groups as bit masks.

    Assessment reads these instead of record + record_standard + record_group: a quarter's grid
    is then a range scan of narrow rows, not a join probe per record. server/assessment/facts.py
    keeps the table current from record.seq (every write to a record takes a new seq) before
    each assessment; nothing else writes it. On SQLite the table is clustered by team and time.
    """

    __tablename__ = "assessment_fact"
    team_id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(primary_key=True)
    record_id: Mapped[str] = mapped_column(
        sa.ForeignKey("record.id", ondelete="CASCADE"), primary_key=True
    )
    officer_id: Mapped[int]
    kind: Mapped[str] = mapped_column(sa.String(40))
    deleted: Mapped[bool]
    review_state: Mapped[str] = mapped_column(sa.String(12))
    people_count: Mapped[int | None]
    duration_minutes: Mapped[int | None]
    notice_seconds: Mapped[int | None] = mapped_column(sa.BigInteger)  # occurred - publicised
    std_mask: Mapped[int] = mapped_column(sa.BigInteger)
    group_mask: Mapped[int] = mapped_column(sa.BigInteger)
    contact_role: Mapped[str] = mapped_column(sa.String(120))
    contact_org: Mapped[str] = mapped_column(sa.String(120))
    seq: Mapped[int] = mapped_column(sa.BigInteger)

    __table_args__ = (
        sa.Index("ix_assessment_fact_record", "record_id", unique=True),
        sa.Index(
            "ix_assessment_fact_kind",
            "team_id",
            "kind",
            "occurred_at",
            "deleted",
            "review_state",
            "contact_role",
            "contact_org",
        ),
        # PostgreSQL keeps rows in a heap: this lets the period scan read the index alone.
        sa.Index(
            "ix_assessment_fact_scan",
            "team_id",
            "occurred_at",
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
        ).ddl_if(dialect="postgresql"),
        {"sqlite_with_rowid": False},
    )


class AssessmentCode(Model):
    """The bit each standard or group code has in AssessmentFact's masks (never reassigned)."""

    __tablename__ = "assessment_code"
    family: Mapped[str] = mapped_column(sa.String(10), primary_key=True)  # standard | group
    code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    bit: Mapped[int]


class CatchUpState(Model):
    """How far a catch-up index (server/records/codes.py) has got: the highest record.seq
    whose derived rows are current, one row per index."""

    __tablename__ = "catch_up_state"
    name: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class AssessmentState(Model):
    """How far AssessmentFact has caught up: the highest record.seq it reflects."""

    __tablename__ = "assessment_state"
    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)


# --- Security (issue 11): console sessions kept on the server, so signing out, deactivation and
# a password change end a session at once, whatever copy of its cookie is still around.
class ConsoleSession(Model):
    """One console sign-in. The cookie carries a random id; only its SHA-256 is stored."""

    __tablename__ = "console_session"
    id_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    ended_reason: Mapped[str] = mapped_column(sa.String(20), default="")
    address: Mapped[str] = mapped_column(sa.String(64), default="")


# --- Single sign-on (issue 16): a one-time code that carries an OpenID Connect sign-in from the
# provider's redirect back to the officers' app, which exchanges it for a device token.
class SignInHandoff(Model):
    __tablename__ = "sign_in_handoff"
    code_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]


# --- Alerts (issue 15): a supervisor's "seen, and here is why" on one alert. An alert's id
# names its rule, its subject and the fact it rests on, so a later lapse is a new alert.
class AlertDismissal(Model):
    __tablename__ = "alert_dismissal"
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("team.id"))
    alert_id: Mapped[str] = mapped_column(sa.String(120))
    note: Mapped[str] = mapped_column(sa.String(500))
    dismissed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    dismissed_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (
        sa.Index("ix_alert_dismissal_team_alert", "team_id", "alert_id", unique=True),
    )
