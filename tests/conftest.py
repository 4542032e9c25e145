"""Shared fixtures: an app on a fresh database per test, on SQLite or PostgreSQL.

Set BEATBOOK_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test to run the
suite on PostgreSQL: the session makes its own database beside that one and drops it at the end,
so parallel runs never share tables.
"""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa
from helpers import PASSWORD, DeviceClient

from server import create_app
from server.accounts.people import add_team, add_user
from server.db import db
from server.db.create import init_db


@pytest.fixture(scope="session")
def database_server():
    """None for SQLite; otherwise the URL of a throwaway PostgreSQL database for this session."""
    base = os.environ.get("BEATBOOK_TEST_DATABASE_URL")
    if not base:
        yield None
        return
    name = f"beatbook_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """Argon2 at production cost takes up to a second a hash on a busy CI box; tests make
    dozens of users. Hashes carry their own parameters, so verification is unchanged."""
    from argon2 import PasswordHasher

    import server.accounts.auth

    monkeypatch.setattr(
        server.accounts.auth,
        "_hasher",
        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
    )


@pytest.fixture
def app(tmp_path, database_server):
    url = database_server or f"sqlite:///{tmp_path / 'beatbook.sqlite'}"
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False,
        }
    )
    app.instance_path = str(tmp_path)
    with app.app_context():
        if database_server:
            db.drop_all()
        init_db()
    yield app
    with app.app_context():
        db.session.remove()
        if database_server:
            db.drop_all()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_team(app):
    def make(code="NPT-ONE", name="Team One"):
        with app.app_context():
            team = add_team(code, name, f"{name} area")
            return team.code

    return make


@pytest.fixture
def make_user(app, make_team):
    """make_user(role, team_code) -> username; the team is made if it does not exist."""

    def make(role="officer", team="NPT-ONE", username=None):
        from server.db.models import Team

        with app.app_context():
            if team and db.session.scalar(sa.select(Team).where(Team.code == team)) is None:
                add_team(team, f"Team {team}")
            name = username or f"{role}-{uuid.uuid4().hex[:6]}"
            add_user(name, PASSWORD, role, team if role != "admin" and role != "panel" else None)
            return name

    return make


@pytest.fixture
def device(client, make_user):
    """A signed-in officer's phone on team NPT-ONE."""
    return DeviceClient(client, make_user("officer", "NPT-ONE"))


@pytest.fixture
def new_device(client):
    def make(username, name="Test phone"):
        return DeviceClient(client, username, name)

    return make
