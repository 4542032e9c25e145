"""Alert commands: `beatbook alerts list` and `beatbook alerts digest` (the daily email)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


@click.group("alerts")
def alerts_group():
    """Alerts before a standard slips (the catalogue's alert rules).

    Example (daily, from cron): 0 7 * * *  beatbook alerts digest
    """


@alerts_group.command("list")
@click.option("--team", "team_code", help="One team's code; default every active team.")
@with_appcontext
def alerts_list(team_code: str | None):
    """Print the undismissed alerts, soonest due first.

    Example: beatbook alerts list --team NPT-WEY
    """
    import sqlalchemy as sa

    from server.alerts.rules import team_alerts
    from server.alerts.visible import live
    from server.db import db
    from server.db.models import Team

    query = sa.select(Team).where(Team.active.is_(True)).order_by(Team.code)
    if team_code:
        query = query.where(Team.code == team_code.strip().upper())
    teams = list(db.session.scalars(query))
    if team_code and not teams:
        raise click.ClickException(f"No active team {team_code!r}.")
    for alert in live(team_alerts(teams)):
        due = f"{alert.due:%Y-%m-%d}" if alert.due else "-"
        click.echo(f"{alert.team}\t{due}\t{alert.rule}\t{alert.title}")


@alerts_group.command("digest")
@click.option("--dry-run", is_flag=True, help="Say who would get what; send nothing.")
@with_appcontext
def alerts_digest(dry_run: bool):
    """Email each supervisor and admin with an address their undismissed alerts.

    Needs BEATBOOK_SMTP_HOST (and _PORT, _FROM, _USER, _PASSWORD, _STARTTLS as the relay wants).
    Example: BEATBOOK_SMTP_HOST=mail.force.internal beatbook alerts digest
    """
    from server.alerts.digest import DigestError, send_digest

    try:
        sent = send_digest(current_app.config, dry_run=dry_run)
    except DigestError as exc:
        raise click.ClickException(str(exc)) from exc
    verb = "would send" if dry_run else "sent"
    for item in sent:
        click.echo(f"{verb} {item.alerts} alerts to {item.username} <{item.address}>")
    if not sent:
        click.echo("No one with an email address has alerts: nothing sent.")


ALERT_COMMANDS = [alerts_group]
