"""`beatbook assess` and `beatbook export --sqlite`: the assessment from a terminal."""

from __future__ import annotations

import getpass
import json
import os
import sys
from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from server.db import db
from server.db.models import AccessLog, User


def operator(username: str | None) -> tuple[int | None, dict]:
    """Who runs a CLI export: the Beatbook user named by --as (must exist and be active), else
    the operating-system account, which the access log keeps by name."""
    if username:
        user = db.session.scalar(select(User).where(func.lower(User.username) == username.lower()))
        if user is None or not user.active:
            raise click.ClickException(f"--as {username}: no active Beatbook user of that name.")
        return user.id, {"operator": user.username}
    return None, {"operator": None, "os_user": _os_user()}


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (e.g. a bare container)
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


def _log(action: str, detail: dict, as_user: str | None) -> None:
    """Exports leave the same trace in the access log as the console's (user: the operator)."""
    user_id, who = operator(as_user)
    db.session.add(
        AccessLog(
            user_id=user_id,
            action=action,
            target_type="cli",
            target_id="",
            detail={**who, **detail},
            address="cli",
        )
    )
    db.session.commit()


@click.command("assess")
@click.option("--team", "team_code", help="Team code; all active teams when left out.")
@click.option(
    "--period", help="2026-Q3, 2026-07, 2026-W27 or 2026; the current quarter by default."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@with_appcontext
def assess_command(team_code: str | None, period: str | None, fmt: str):
    """Rate teams against the standards for a period.

    Example: beatbook assess --team NPT-WEY --period 2026-Q3 --format json
    """
    from server.assessment.exports import grid_csv, grid_table
    from server.assessment.grid import (
        AssessmentError,
        assess_with_previous,
        resolve_period,
        visible_teams,
    )
    from server.assessment.serialize import assessment_json

    try:
        chosen = resolve_period(period)
        teams = visible_teams(None, team_code)
    except AssessmentError as exc:
        raise click.ClickException(str(exc)) from exc
    if not teams:
        raise click.ClickException("There are no active teams.")
    result = assess_with_previous(chosen, teams)
    if fmt == "json":
        click.echo(json.dumps(assessment_json(result), indent=2))
    elif fmt == "csv":
        click.echo(grid_csv(result), nl=False)
    else:
        click.echo(grid_table(result), nl=False)


@click.command("export")
@click.option(
    "--sqlite",
    "target",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The SQLite file to write (must not exist).",
)
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Only records that happened, and changes received, on or after this date.",
)
@click.option(
    "--as",
    "as_user",
    metavar="USERNAME",
    help="The Beatbook user running the export, for the access log (default: the "
    "operating-system user).",
)
@with_appcontext
def export_command(target: Path, since, as_user: str | None):
    """Export records, the change log and assessments to a standalone SQLite file.

    The file has full-text search on record summaries and views `grid` and `grid_figures`.
    Example: beatbook export --sqlite beatbook-2026.sqlite --since 2026-01-01
    """
    from server.assessment.sqlite_export import count_rows, export_sqlite

    if target.exists():
        raise click.ClickException(f"{target} already exists: choose a new file name.")
    operator(as_user)  # refuse an unknown --as before writing anything
    day: date | None = since.date() if since else None
    total = count_rows(since)
    with click.progressbar(
        length=total, label="Exporting records and changes", show_pos=True, file=sys.stderr
    ) as bar:
        counts = export_sqlite(target, day, progress=bar.update)
    _log(
        "export.sqlite",
        {"file": target.name, "since": day.isoformat() if day else None, **counts},
        as_user,
    )
    click.echo(
        f"Wrote {target}: {counts['records']} records, {counts['changes']} changes, "
        f"{counts['assessments']} standard ratings over {counts['grades']} team periods."
    )


COMMANDS = [assess_command, export_command]
