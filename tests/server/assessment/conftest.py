"""Fixtures for assessment tests: a small force built by hand through the real write path."""

from __future__ import annotations

import pytest
from assessment_force import PASSWORD, Force


@pytest.fixture(scope="session")
def password_hash() -> str:
    from server.accounts.auth import hash_password

    return hash_password(PASSWORD)


@pytest.fixture(autouse=True)
def _one_password_hash(monkeypatch, password_hash):
    # Argon2 is slow on purpose; every test user shares one real hash of PASSWORD instead.
    monkeypatch.setattr("server.accounts.people.hash_password", lambda _password: password_hash)


@pytest.fixture
def force(app):
    with app.app_context():
        yield Force()
