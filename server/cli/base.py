"""What the `beatbook` command is made of, apart from its commands: the group, --version, and
configuration mistakes as plain lines with exit code 2.

A plain click group, not Flask's FlaskGroup: `beatbook --help` shows Beatbook's options only
(no --app, --env-file, --debug). `flask --app server ...` still has every command.
"""

from __future__ import annotations

import os

import click
from flask import Flask
from flask.cli import ScriptInfo

from server.config import ConfigError


class ConfigProblem(click.ClickException):
    """A ConfigError on its way out of the command: one line per problem, exit 2."""

    exit_code = 2

    def show(self, file=None) -> None:
        for line in self.message.splitlines():
            click.echo(f"beatbook: {line}", err=True)


def create_cli_app() -> Flask:
    """The app a command runs in; its database must be reachable (init-db makes the tables)."""
    from server import create_app
    from server.db.check import check_database

    # The commands are how a database is made and upgraded, so they run on one behind head;
    # one run by hand (an export, the demo) may take longer than a request is allowed, so it
    # is unbounded unless BEATBOOK_DATABASE_TIMEOUT says otherwise (`serve` keeps the bound).
    settings: dict = {"CHECK_SCHEMA": False}
    if "BEATBOOK_DATABASE_TIMEOUT" not in os.environ:
        settings["DATABASE_TIMEOUT"] = 0
    try:
        app = create_app(settings)
        check_database(app, schema=False)
    except ConfigError as exc:
        raise ConfigProblem(str(exc)) from None
    return app


class BeatbookGroup(click.Group):
    """A click group whose commands can use Flask's with_appcontext (create_cli_app's app)."""

    def main(self, *args, **kwargs):
        kwargs.setdefault("obj", ScriptInfo(create_app=create_cli_app, set_debug_flag=False))
        return super().main(*args, **kwargs)


def version_option():
    return click.version_option(
        package_name="beatbook", prog_name="Beatbook", message="%(prog)s %(version)s"
    )
