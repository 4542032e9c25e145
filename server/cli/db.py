"""`beatbook db upgrade|current|history`, `beatbook backup FILE`, `beatbook restore FILE`.

Alembic is driven from Python (server.db.migrate), so these are Beatbook's own commands with
Beatbook's options, not Flask-Migrate's generic `flask db`.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from server.db import db


def _url():
    return db.engine.url


def _show() -> str:
    return _url().render_as_string(hide_password=True)


@click.group("db")
def db_group():
    """The database's schema revision.

    Example: beatbook backup before.sqlite && beatbook db upgrade
    """


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str):
    """Upgrade the database to this Beatbook's schema (or to REVISION); creates it if empty.

    A database made by Beatbook 1.0.0 (before migrations) is recognised and upgraded. Take a
    backup first: see docs/operations.md.

    Example: beatbook backup /backups/before-upgrade.sqlite && beatbook db upgrade
    """
    from server.db import migrate

    try:
        before, after = migrate.upgrade(_url(), revision)
    except migrate.SchemaError as exc:
        raise click.ClickException(str(exc)) from exc
    if before.legacy:
        click.echo(f"Recognised a Beatbook 1.0.0 database; stamped it {migrate.BASELINE}.")
    was = "empty" if before.empty else before.revision or migrate.BASELINE
    if was == after.revision:
        click.echo(f"Database {_show()} is at {after.describe()}.")
    else:
        click.echo(f"Database {_show()} upgraded: {was} -> {after.describe()}.")


@db_group.command("current")
@with_appcontext
def db_current():
    """Show the database's schema revision and whether it is behind this Beatbook's.

    Example: beatbook db current
    """
    from server.db import migrate

    with db.engine.connect() as conn:
        found = migrate.status(conn)
    click.echo(f"{_show()}: {found.describe()}")
    if found.empty:
        click.echo("Run `beatbook init-db` to create it.")
    elif found.known and not found.at_head:
        click.echo("Run `beatbook db upgrade` (after a backup) to bring it to head.")


@db_group.command("history")
def db_history():
    """List the schema revisions this Beatbook knows, oldest first.

    Example: beatbook db history
    """
    from server.db import migrate

    top = migrate.head()
    for revision, message in migrate.history():
        click.echo(f"{revision}{' (head)' if revision == top else ''}  {message}")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(file: Path):
    """Back up the database to FILE; safe while Beatbook is serving.

    SQLite: a copy made with SQLite's online backup API. PostgreSQL: pg_dump's custom format
    (the pg_dump command is printed if pg_dump is not on PATH).

    Example: beatbook backup /backups/beatbook-$(date +%F).sqlite
    """
    from server.db.backup import BackupError, backup

    try:
        outcome = backup(_url(), file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(outcome.message)
    if not outcome.done:
        raise SystemExit(1)  # no backup was made: a cron job must notice


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that is not empty.")
@with_appcontext
def restore_command(file: Path, force: bool):
    """Restore a backup made by `beatbook backup` into an empty database (stop Beatbook first).

    Example: beatbook restore /backups/beatbook-2026-12-01.sqlite
    """
    from server.db.backup import BackupError, restore

    db.engine.dispose()  # this process holds no connection while the file is replaced
    try:
        outcome = restore(_url(), file, force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(outcome.message)
    if not outcome.done:
        raise SystemExit(1)  # nothing was restored


COMMANDS = [db_group, backup_command, restore_command]
