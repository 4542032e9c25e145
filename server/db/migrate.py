"""Schema migrations (Alembic, run from Python: `beatbook db upgrade|current|history`).

The revisions live in server/db/migrations/versions/ and ship inside the package, so an installed
Beatbook can upgrade its own database. The first revision, v1_0_0, is the schema Beatbook 1.0.0
(commit ba8137e) made. Databases made by 1.0.0 have no alembic_version table: `upgrade`
recognises them by their tables and stamps them v1_0_0 before upgrading ("adoption").

Every upgrade is one transaction on its own connection: on PostgreSQL DDL is transactional; on
SQLite the connection issues BEGIN IMMEDIATE itself (the driver would otherwise run DDL outside a
transaction), so a failed revision leaves the database as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy.pool import NullPool

from server.config import ConfigError
from server.db.check import one_line

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "v1_0_0"  # Beatbook 1.0.0 = commit ba8137e
VERSION_TABLE = "alembic_version"
# Made by the search DDL, not by the models: left out of autogenerate's comparison.
FTS_TABLE = "record_fts"
PG_SEARCH_COLUMN = "search_doc"
PG_SEARCH_INDEX = "ix_record_search_doc"


class SchemaError(ConfigError):
    """The database is not at the schema this code needs; the message says what to run."""


@dataclass(frozen=True)
class Status:
    revision: str | None  # the stamped revision; None when there is no alembic_version row
    head: str
    tables: frozenset[str]  # the application's tables present (not alembic_version)

    @property
    def empty(self) -> bool:
        return not self.tables

    @property
    def legacy(self) -> bool:
        """Made by 1.0.0 before migrations: tables but no stamp."""
        return self.revision is None and not self.empty

    @property
    def known(self) -> bool:
        return self.revision is None or self.revision in revisions()

    @property
    def at_head(self) -> bool:
        return self.revision == self.head

    def describe(self) -> str:
        if self.empty:
            return "empty (no tables)"
        if self.legacy:
            return "Beatbook 1.0.0, made before migrations (no alembic_version)"
        if not self.known:
            return f"{self.revision}, a revision this Beatbook does not know (a newer one's)"
        return f"{self.revision}{' (head)' if self.at_head else f', behind head {self.head}'}"


# --- the script directory ------------------------------------------------------------------


def config(connection: sa.Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


@cache
def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(config())


def head() -> str:
    found = scripts().get_current_head()
    assert found is not None  # the migrations ship with the package: there is a head
    return found


def revisions() -> list[str]:
    """Every revision id, oldest first."""
    return [script.revision for script in reversed(list(scripts().walk_revisions()))]


def baseline_module():
    """The v1_0_0 revision's module: adoption reuses its definitions of 1.0.0's objects."""
    return scripts().get_revision(BASELINE).module


def target_metadata() -> sa.MetaData:
    """Every model's table, as the code at head declares them."""
    import server.assessment.rollup  # noqa: F401  (the rollup models)
    import server.db.models  # noqa: F401
    from server.db import db

    return db.metadata


def include_object_for(dialect: str):
    """Autogenerate's filter: the search objects are made by hand-written DDL in the revisions
    (FTS5 and its shadow tables on SQLite, a generated tsvector column and its GIN index on
    PostgreSQL), and indexes declared for another dialect only (ddl_if) are not expected."""

    def include(obj, name, type_, reflected, compare_to) -> bool:
        if type_ == "table" and (name == FTS_TABLE or name.startswith(FTS_TABLE + "_")):
            return False
        if type_ == "column" and name == PG_SEARCH_COLUMN and obj.table.name == "record":
            return False
        if type_ == "index":
            if name == PG_SEARCH_INDEX:
                return False
            ddl_if = getattr(obj, "_ddl_if", None)
            if ddl_if is not None and ddl_if.dialect not in (None, dialect):
                return False
        return True

    return include


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    from alembic import context

    return include_object_for(context.get_context().dialect.name)(
        obj, name, type_, reflected, compare_to
    )


# --- status --------------------------------------------------------------------------------


def status(connection: sa.Connection) -> Status:
    names = set(sa.inspect(connection).get_table_names())
    revision = MigrationContext.configure(connection).get_current_revision()
    tables = frozenset(n for n in names if n != VERSION_TABLE and not n.startswith(FTS_TABLE))
    return Status(revision=revision, head=head(), tables=tables)


def require_head(engine: sa.Engine) -> None:
    """Raise SchemaError, with one line saying what to run, unless the database is at head."""
    url = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as conn:
            found = status(conn)
    except sa.exc.DBAPIError as exc:  # unreachable, refused, not a database: one line
        raise ConfigError(
            f"BEATBOOK_DATABASE_URL: cannot use the database {url}: {one_line(exc.orig)}"
        ) from None
    if found.at_head:
        return
    if found.empty:
        raise SchemaError(f"The database {url} has no tables: run `beatbook init-db`.")
    if not found.known:
        raise SchemaError(
            f"The database {url} is at revision {found.revision}, newer than this Beatbook "
            f"(head {found.head}): install the version that upgraded it, or restore the backup "
            "taken before the upgrade (docs/operations.md)."
        )
    raise SchemaError(
        f"The database {url} is at {found.describe()}: back it up (`beatbook backup FILE`), "
        "then run `beatbook db upgrade`."
    )


def refuse_unless_at_head(app) -> None:
    """The app factory's check: a refused app leaves no connection open behind it."""
    from server.db import db

    with app.app_context():
        try:
            require_head(db.engine)
        except Exception:
            db.engine.dispose()
            raise


# --- upgrading -----------------------------------------------------------------------------


def migration_engine(url: sa.URL | str) -> sa.Engine:
    """An engine of its own for migrating: one connection, one real transaction."""
    engine = sa.create_engine(url, poolclass=NullPool)
    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _no_driver_transactions(dbapi_connection, _record):
            dbapi_connection.isolation_level = None  # we say BEGIN ourselves, below
            dbapi_connection.execute("PRAGMA busy_timeout=30000")

        @sa.event.listens_for(engine, "begin")
        def _begin_immediate(conn):
            # IMMEDIATE takes the write lock now: a running server's pushes wait, not fail.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def upgrade(url: sa.URL | str, revision: str = "head") -> tuple[Status, Status]:
    """Upgrade the database to `revision`; returns its status before and after.

    An empty database gets every revision from the start; a 1.0.0 database without a stamp is
    adopted (see adopt_1_0_0) and then upgraded.
    """
    engine = migration_engine(url)
    try:
        with engine.begin() as conn:
            before = status(conn)
            if not before.known:
                raise SchemaError(
                    f"The database is at revision {before.revision}, newer than this Beatbook "
                    f"(head {before.head}): it cannot be upgraded by this version."
                )
            if before.legacy:
                adopt_1_0_0(conn, before)
            command.upgrade(config(conn), revision)
            _check_foreign_keys(conn)
            _check_sqlite_objects(conn)
            after = status(conn)
    finally:
        engine.dispose()
    return before, after


def adopt_1_0_0(conn: sa.Connection, found: Status) -> None:
    """Stamp a database that Beatbook 1.0.0 made with create_all as v1_0_0.

    1.0.0's init-db made every table, the search objects and (from the models) the rollup
    tables; 1.0.0 also made the rollup tables on demand in databases made before them. So the
    adopted database must hold every 1.0.0 table except perhaps the rollups: missing rollup
    tables (and search objects) are made from v1_0_0's own definitions and the rollups are
    marked unbuilt, which is what 1.0.0's on-demand creation did.
    """
    base = baseline_module()
    missing_core = sorted(set(base.CORE_TABLES) - found.tables)
    if missing_core:
        raise SchemaError(
            "The database has some tables but not Beatbook 1.0.0's "
            f"(missing {', '.join(missing_core)}): it was not made by Beatbook 1.0.0."
        )
    operations = Operations(MigrationContext.configure(conn))
    missing_rollups = [name for name in base.ROLLUP_TABLES if name not in found.tables]
    if missing_rollups:
        base.create_rollup_tables(operations, only=missing_rollups)
        conn.execute(sa.text("UPDATE assessment_rollup_state SET tz = ''"))
    base.create_search(operations, rebuild=True)
    MigrationContext.configure(conn).stamp(scripts(), BASELINE)


def _check_foreign_keys(conn: sa.Connection) -> None:
    """SQLite runs migrations with foreign keys off (batch mode recreates tables): check after."""
    if conn.dialect.name == "sqlite":
        broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise SchemaError(
                f"The upgrade would break {len(broken)} foreign keys, e.g. "
                f"{tuple(broken[0])}: nothing was changed."
            )


SEARCH_TRIGGERS = ("record_fts_insert", "record_fts_delete", "record_fts_update")


def _check_sqlite_objects(conn: sa.Connection) -> None:
    """What batch mode (copy the table, drop the old one, rename) can lose on SQLite: the search
    triggers on `record` (always, when `record` is copied) and WITHOUT ROWID (if a revision's
    table_kwargs override the reflected option). A revision that loses them is refused and the
    transaction rolls back: one that copies `record` must recreate the triggers."""
    if conn.dialect.name != "sqlite":
        return
    rows = conn.exec_driver_sql("SELECT type, name, sql FROM sqlite_master").fetchall()
    triggers = {name for type_, name, _ in rows if type_ == "trigger"}
    lost = [f"trigger {name}" for name in SEARCH_TRIGGERS if name not in triggers]
    sql = {name: (text or "").upper() for type_, name, text in rows if type_ == "table"}
    for table in target_metadata().sorted_tables:
        if table.dialect_options["sqlite"].get("with_rowid") is False and table.name in sql:
            if "WITHOUT ROWID" not in sql[table.name]:
                lost.append(f"WITHOUT ROWID on {table.name}")
    if lost:
        raise SchemaError(
            f"The upgrade would lose {', '.join(lost)} (SQLite batch mode "
            "recreates tables): nothing was changed."
        )


def stamp_head(engine: sa.Engine) -> None:
    """Record that a database made from the models (init-db on an empty one) is at head."""
    with engine.begin() as conn:
        MigrationContext.configure(conn).stamp(scripts(), "head")


def history() -> list[tuple[str, str]]:
    """(revision, first line of its message), oldest first."""
    return [
        (script.revision, (script.doc or "").splitlines()[0] if script.doc else "")
        for script in reversed(list(scripts().walk_revisions()))
    ]


def autogenerate(message: str, rev_id: str) -> Path:
    """Write the next revision's first draft: what the models add to head, against a scratch
    SQLite database (batch mode). Review it: FTS triggers, PostgreSQL-only indexes and data
    moves are never autogenerated. Example, from a checkout:

        python -c "from server.db import migrate; migrate.autogenerate('device nickname', 'v1_1_0')"
    """
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'head.sqlite'}"
        upgrade(url)
        engine = migration_engine(url)
        try:
            with engine.begin() as conn:
                script = command.revision(
                    config(conn), message=message, autogenerate=True, rev_id=rev_id
                )
        finally:
            engine.dispose()
    scripts.cache_clear()
    assert isinstance(script, Script)  # one head, so one new script
    return Path(script.path)
