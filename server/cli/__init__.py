"""The `beatbook` command: a thin layer over plain functions.

Each command builds what it needs, calls one function, and turns domain errors into clean
messages (click.ClickException), never tracebacks.
"""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import select

from server.cli.alerts import ALERT_COMMANDS  # alerts list, alerts digest
from server.cli.assessment import COMMANDS as ASSESSMENT_COMMANDS  # assess, export
from server.cli.base import BeatbookGroup, ConfigProblem, version_option
from server.cli.dataprotection import COMMANDS as DATA_PROTECTION_COMMANDS  # retention, SAR
from server.cli.db import COMMANDS as DB_COMMANDS  # db, backup, restore
from server.db import db
from server.db.models import ROLES, Team


@click.group(cls=BeatbookGroup)
@version_option()
def main():
    """Beatbook: field logging and assessment for neighbourhood policing teams.

    Example: beatbook init-db && beatbook demo && beatbook serve --port 8000
    """


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Create the database's tables in an empty database (safe to run again).

    A database made by an older Beatbook is upgraded with `beatbook db upgrade` instead.

    Example: BEATBOOK_DATABASE_URL=postgresql://postgres@127.0.0.1/beatbook beatbook init-db
    """
    from server.db.create import init_db
    from server.db.migrate import SchemaError

    try:
        init_db()
    except SchemaError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Database ready: {db.engine.url.render_as_string(hide_password=True)}")


@click.group("team")
def team_group():
    """Manage teams. Example: beatbook team add NPT-WEY --name "Weymouth NPT\""""


@team_group.command("add")
@click.argument("code")
@click.option("--name", required=True, help="The team's name, e.g. 'Weymouth Town NPT'.")
@click.option("--area", default="", help="The area the team covers, as the public knows it.")
@with_appcontext
def team_add(code: str, name: str, area: str):
    """Add a team. Example: beatbook team add NPT-WEY --name "Weymouth NPT" --area Weymouth"""
    from server.accounts.people import PeopleError, add_team

    try:
        add_team(code, name, area)
    except PeopleError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Team {code.upper()} added.")


@click.group("user")
def user_group():
    """Manage people. Example: beatbook user add pc.smith --role officer --team NPT-WEY"""


@user_group.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--team", "team_code", help="Team code (required for officers and supervisors).")
@click.option("--name", "display_name", default="", help="Display name, e.g. 'PC 1234 Smith'.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def user_add(username, role, team_code, display_name, password_stdin):
    """Add a user; prompts for the password unless --password-stdin.

    Example:
      echo 's3cret-passphrase' | beatbook user add pc.smith --role officer --team NPT-WEY \
        --password-stdin
    """
    from server.accounts.people import PeopleError, add_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        add_user(username, password, role, team_code, display_name)
    except PeopleError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"User {username} ({role}) added.")


@user_group.command("link-sso")
@click.argument("username")
@click.argument("subject")
@with_appcontext
def user_link_sso(username, subject):
    """Link an existing account to the person the force's provider knows by SUBJECT (its sub,
    or oid for Entra ID), so their first single sign-on finds their records.

    Example: beatbook user link-sso pc.smith 7d1c1e62-0b4e-4b7e-9b7a-3f1c2d4e5f60
    """
    from server.accounts.people import PeopleError
    from server.oidc.identity import link

    try:
        link(username, subject)
    except PeopleError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"User {username} now signs in through the force's provider as {subject}.")


@user_group.command("email")
@click.argument("username")
@click.argument("address")
@with_appcontext
def user_email(username, address):
    """Set (or, with "", clear) where the user's daily alerts digest goes.

    Example: beatbook user email sgt.jones j.jones@force.police.uk
    """
    from server.accounts.people import PeopleError, set_email

    try:
        set_email(username, address)
    except PeopleError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"User {username}'s digest goes to {address}."
        if address.strip()
        else f"User {username} gets no digest."
    )


@click.command("demo")
@click.option("--months", default=6, show_default=True, help="Months of records to make.")
@click.option("--seed", default=7, show_default=True, help="Random seed (same seed, same force).")
@with_appcontext
def demo_command(months: int, seed: int):
    """Seed a realistic demo force: teams, officers, supervisors and months of records.

    Example: beatbook demo --months 12
    """
    from server.demo import DEMO_LOGINS, TEAMS, seed_demo

    if db.session.scalar(select(Team).limit(1)) is not None:
        click.echo("The database already has teams; demo not loaded again.")
    else:
        count = seed_demo(months=months, seed=seed)
        click.echo(f"Demo force loaded: {count} records.")
    click.echo("Demo teams (code, name; each has a public page at /teams/CODE):")
    for code, name, _area in TEAMS:
        click.echo(f"  {code:<16} {name}")
    click.echo("Demo sign-ins (username / password):")
    for username, password, what in DEMO_LOGINS:
        click.echo(f"  {username:<16} {password:<18} {what}")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option(
    "--threads",
    default=4,
    show_default=True,
    type=int,
    help="Requests each worker serves at once (a slow phone holds one thread).",
)
@click.option("--certfile", type=click.Path(exists=True, dir_okay=False), help="TLS certificate.")
@click.option("--keyfile", type=click.Path(exists=True, dir_okay=False), help="TLS private key.")
@click.option("--dev", is_flag=True, help="Development settings (no secret key needed).")
def serve_command(host, port, workers, threads, certfile, keyfile, dev):
    """Serve Beatbook with gunicorn (production settings unless --dev).

    Example: beatbook serve --host 0.0.0.0 --port 443 --certfile cert.pem --keyfile key.pem
    """
    from server.config import ConfigError
    from server.serve import run_gunicorn

    if bool(certfile) != bool(keyfile):
        raise click.ClickException("--certfile and --keyfile go together.")
    try:
        run_gunicorn(host, port, workers, certfile, keyfile, production=not dev, threads=threads)
    except ConfigError as exc:
        raise ConfigProblem(str(exc)) from None


@click.group("oidc")
def oidc_group():
    """Single sign-on through the force's identity provider (docs/operations.md).

    Example: beatbook oidc check
    """


@oidc_group.command("check")
@with_appcontext
def oidc_check():
    """Ask the provider about every single sign-on account that holds a device token; deactivate
    the ones it no longer knows (every console session ends, every device token is revoked).

    Example (cron, hourly): beatbook oidc check
    """
    from server.oidc.client import settings
    from server.oidc.leavers import check_all

    if settings() is None:
        raise click.ClickException("Single sign-on is not set up (BEATBOOK_OIDC_ISSUER).")
    checked, gone = check_all()
    click.echo(f"Checked {checked} accounts with the provider; deactivated {gone}.")


COMMANDS = [
    init_db_command,
    oidc_group,
    team_group,
    user_group,
    demo_command,
    serve_command,
    *ASSESSMENT_COMMANDS,
    *DB_COMMANDS,
    *DATA_PROTECTION_COMMANDS,
    *ALERT_COMMANDS,
]


def register_commands(app: Flask) -> None:
    """Make the commands available as `flask --app server ...` too."""
    for command in COMMANDS:
        app.cli.add_command(command)


for _command in COMMANDS:
    main.add_command(_command)
