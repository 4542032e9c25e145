"""The beatbook command: every command has help with an example, and does what it says."""

from __future__ import annotations

import click
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from server.cli import main
from server.db import db
from server.db.models import Record, Team, User


def _commands(group, prefix=()):
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


@pytest.mark.parametrize("path", [p for p, _ in _commands(main)], ids=" ".join)
def test_every_command_has_help_with_an_example(path):
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output


def test_team_and_user_add(app, runner):
    assert runner.invoke(args=["team", "add", "npt-wey", "--name", "Weymouth NPT"]).exit_code == 0
    result = runner.invoke(
        args=[
            "user",
            "add",
            "pc.smith",
            "--role",
            "officer",
            "--team",
            "NPT-WEY",
            "--password-stdin",
        ],
        input="a-long-enough-password\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "pc.smith"))
        assert user.team.code == "NPT-WEY" and user.role == "officer"


@pytest.mark.parametrize(
    "args,input,message",
    [
        (["team", "add", "x", "--name", "X"], None, "team code"),
        (
            ["user", "add", "pc.a", "--role", "officer", "--team", "NOPE", "--password-stdin"],
            "a-long-enough-password\n",
            "No team",
        ),
        (
            ["user", "add", "pc.a", "--role", "officer", "--password-stdin"],
            "a-long-enough-password\n",
            "An officer needs a team",
        ),
        (
            ["user", "add", "sgt.a", "--role", "supervisor", "--password-stdin"],
            "a-long-enough-password\n",
            "A supervisor needs a team",
        ),
        (["user", "add", "pc.a", "--role", "admin", "--password-stdin"], "short\n", "at least 10"),
    ],
)
def test_bad_input_is_a_clean_message(runner, args, input, message):
    result = runner.invoke(args=args, input=input)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("role,who", [("admin", "An admin"), ("panel", "A panel member")])
def test_a_team_for_an_admin_or_panel_member_is_refused(app, runner, make_team, role, who):
    # It used to be stored silently, meaning nothing (they see every team).
    make_team("NPT-WEY")
    result = runner.invoke(
        args=["user", "add", "insp.a", "--role", role, "--team", "NPT-WEY", "--password-stdin"],
        input="a-long-enough-password\n",
    )
    assert result.exit_code != 0
    assert f"{who} sees every team; leave out --team" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.username == "insp.a")) is None
    again = runner.invoke(
        args=["user", "add", "insp.a", "--role", role, "--password-stdin"],
        input="a-long-enough-password\n",
    )
    assert again.exit_code == 0, again.output


def test_demo_seeds_a_force_once(app, runner):
    result = runner.invoke(args=["demo", "--months", "1"])
    assert result.exit_code == 0, result.output
    assert "pc.okafor" in result.output
    assert "NPT-WEY          Weymouth Town NPT" in result.output  # the codes --team and /teams need
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Team)) == 4
        count = db.session.scalar(sa.select(sa.func.count()).select_from(Record))
        assert count > 50
    again = runner.invoke(args=["demo"])
    assert "already" in again.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Record)) == count


def test_init_db_is_idempotent(runner):
    assert runner.invoke(args=["init-db"]).exit_code == 0
    assert runner.invoke(args=["init-db"]).exit_code == 0


def test_version_is_beatbooks():
    import tomllib
    from pathlib import Path

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    version = tomllib.loads(pyproject.read_text())["project"]["version"]
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"Beatbook {version}\n"


def test_help_shows_only_beatbooks_options():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for flask_option in ("--app", "--env-file", "--debug"):
        assert flask_option not in result.output
    assert "--version" in result.output and "init-db" in result.output
