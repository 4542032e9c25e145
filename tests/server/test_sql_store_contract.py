"""The Store contract on SqlStore, on SQLite (or PostgreSQL with BEATBOOK_TEST_DATABASE_URL)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.accounts.people import add_team, add_user
from server.db import db
from server.db.models import User
from server.sync.store import Actor, SqlStore
from sync import Owner
from tests.contracts.store_contract import StoreContract


class SqlEnv:
    def __init__(self) -> None:
        owners = []
        for code, name in (("NPT-ONE", "pc.one"), ("NPT-TWO", "pc.two")):
            team = add_team(code, f"Team {code}")
            add_user(name, "correct-horse-battery", "officer", team.code)
            user = db.session.scalar(sa.select(User).where(User.username == name))
            owners.append(Owner(user.id, user.team_id))
        self.owners = tuple(owners)

    def store(self, writer):
        actor = None
        if writer is not None:
            actor = Actor(writer.officer_id, writer.team_id, None, None, None)
        store = SqlStore(db.session, actor)
        if writer is not None:
            store.lock()
        return store

    def commit(self) -> None:
        db.session.commit()

    def abort(self) -> None:
        db.session.rollback()


@pytest.fixture
def env(app):
    with app.app_context():
        yield SqlEnv()


class TestSqlStore(StoreContract):
    pass
