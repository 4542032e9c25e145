"""`beatbook backup FILE` and `beatbook restore FILE`.

SQLite: SQLite's online backup API copies the database in one step under a read transaction, so
the copy is the database as of one commit, taken while the server keeps writing (WAL lets writers
go on). PostgreSQL: pg_dump (a consistent snapshot too) in its custom format, restored by
pg_restore in one transaction; without those programs on PATH the command is printed instead.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from server.db import migrate


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Outcome:
    done: bool  # False: the command to run is in `message`
    message: str


def backup(url: sa.URL, dest: Path) -> Outcome:
    if dest.exists():
        raise BackupError(f"{dest} already exists: give a new file name.")
    if url.get_backend_name() == "sqlite":
        return _sqlite_backup(_sqlite_path(url), dest)
    command = ["pg_dump", "--format=custom", f"--file={dest}", f"--dbname={_libpq_url(url)}"]
    return _run_or_print(command, url, lambda: f"Backed up {_show(url)} to {dest}.")


def restore(url: sa.URL, source: Path, *, force: bool = False) -> Outcome:
    if not source.is_file():
        raise BackupError(f"{source} is not a file.")
    _refuse_non_empty(url, force)
    if url.get_backend_name() == "sqlite":
        return _sqlite_restore(source, _sqlite_path(url))
    command = [
        "pg_restore",
        "--no-owner",
        "--exit-on-error",
        "--single-transaction",
        *(["--clean", "--if-exists"] if force else []),
        f"--dbname={_libpq_url(url)}",
        str(source),
    ]
    return _run_or_print(
        command, url, lambda: f"Restored {source} into {_show(url)}. {_next_step(url)}"
    )


# --- SQLite --------------------------------------------------------------------------------


def _sqlite_path(url: sa.URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory database cannot be backed up or restored.")
    return Path(url.database)


def _sqlite_backup(path: Path, dest: Path) -> Outcome:
    if not path.is_file():
        raise BackupError(f"There is no database at {path}.")
    partial = dest.with_name(dest.name + ".partial")
    source = sqlite3.connect(path, timeout=30)
    try:
        target = sqlite3.connect(partial)
        try:
            source.backup(target)  # pages=-1: the whole database in one step, one snapshot
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            _check_integrity(target, partial)
            records = _count_records(target)
        finally:
            target.close()
    finally:
        source.close()
    os.replace(partial, dest)
    return Outcome(True, f"Backed up {path} ({records} records) to {dest}.")


def _sqlite_restore(source: Path, path: Path) -> Outcome:
    backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        try:
            _check_integrity(backup_db, source)
            records = _count_records(backup_db)
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{source} is not a Beatbook SQLite backup ({exc}).") from exc
        target = sqlite3.connect(path, timeout=30)
        try:
            # The backup API cannot write into a WAL database of another page size; and a WAL
            # switch needs every other connection gone, which is what a restore needs anyway.
            try:
                target.execute("PRAGMA journal_mode=DELETE")
            except sqlite3.OperationalError as exc:
                raise BackupError(f"{path} is in use ({exc}): stop Beatbook first.") from exc
            backup_db.backup(target)
        finally:
            target.close()
    finally:
        backup_db.close()
    url = sa.make_url(f"sqlite:///{path}")
    return Outcome(True, f"Restored {source} ({records} records) into {path}. {_next_step(url)}")


def _check_integrity(conn: sqlite3.Connection, path: Path) -> None:
    result = conn.execute("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        raise BackupError(f"{path} fails SQLite's integrity check: {result}")


def _count_records(conn: sqlite3.Connection) -> int:
    try:
        return conn.execute("SELECT count(*) FROM record").fetchone()[0]
    except sqlite3.OperationalError as exc:
        raise BackupError("Not a Beatbook database: it has no record table.") from exc


# --- both ----------------------------------------------------------------------------------


def _status(url: sa.URL) -> migrate.Status:
    """The database's schema status, on a connection of its own that is closed after."""
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return migrate.status(conn)
    finally:
        engine.dispose()


def _refuse_non_empty(url: sa.URL, force: bool) -> None:
    found = _status(url)
    if not found.empty and not force:
        raise BackupError(
            f"{_show(url)} is not empty ({len(found.tables)} of Beatbook's tables): a restore "
            "would replace everything in it. Restore into an empty database, or pass --force."
        )


def _next_step(url: sa.URL) -> str:
    found = _status(url)
    if found.at_head:
        return "It is at this Beatbook's schema (head)."
    return f"It is at {found.describe()}: run `beatbook db upgrade` before serving it."


def _libpq_url(url: sa.URL) -> str:
    """The URL for pg_dump/pg_restore: no SQLAlchemy driver name and no password (which goes
    in PGPASSWORD, out of the process list)."""
    plain = sa.URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )
    return plain.render_as_string(hide_password=False)


def _show(url: sa.URL) -> str:
    return url.render_as_string(hide_password=True)


def _run_or_print(command: list[str], url: sa.URL, done) -> Outcome:
    """Run the PostgreSQL client program, or say the command to run; done() is the message."""
    printable = " ".join(shlex.quote(part) for part in command)
    if shutil.which(command[0]) is None:
        password = " (with the password in PGPASSWORD or ~/.pgpass)" if url.password else ""
        return Outcome(
            False, f"{command[0]} is not on PATH. Run this where it is{password}:\n  {printable}"
        )
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(
            f"{command[0]} failed ({result.returncode}): "
            f"{result.stderr.strip() or result.stdout.strip()}"
        )
    return Outcome(True, done())
