"""Data protection commands: `beatbook retention run [--dry-run]` and `beatbook subject-access`.

Both are written to the access log (a dry run reads no personal data and writes nothing).
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from server.db import db


@click.group("retention")
def retention_group():
    """Remove free text, and records, past the retention rules (BEATBOOK_RETENTION_*).

    Example (daily, from cron): 15 2 * * *  beatbook retention run
    """


@retention_group.command("run")
@click.option("--dry-run", is_flag=True, help="Say what would be removed; change nothing.")
@with_appcontext
def retention_run(dry_run: bool):
    """Apply the retention rules now.

    Example: beatbook retention run --dry-run
    """
    from server.records.retention import run

    for outcome in run(dry_run=dry_run):
        if outcome.cutoff_utc is None:
            click.echo(f"{outcome.rule}: records are kept without end.")
            continue
        verb = "would remove" if dry_run else "removed"
        what = "free text of" if outcome.rule.startswith("RETENTION_TEXT") else "whole"
        click.echo(
            f"{outcome.rule}: {verb} the {what} {outcome.count} record(s) dated before "
            f"{outcome.cutoff_utc.isoformat()} UTC."
        )


@click.command("subject-access")
@click.argument("phrase")
@click.option("--reference", required=True, help="The request's reference, e.g. SAR-2026-014.")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="File to write.")
@with_appcontext
def subject_access_command(phrase: str, reference: str, fmt: str, out: str | None):
    """Every record and change-log entry mentioning PHRASE, for a subject access request.

    Example: beatbook subject-access "14 Elm Road" --reference SAR-2026-014 --out sar.json
    """
    from server.records.subject_access import SubjectAccessError, export

    try:
        text = export(phrase, reference, fmt, user_id=None)
    except SubjectAccessError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    if out:
        Path(out).write_text(text, encoding="utf-8")
        click.echo(f"Written to {out}.")
    else:
        click.echo(text, nl=False)


COMMANDS = [retention_group, subject_access_command]
