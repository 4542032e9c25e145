"""A PostgreSQL database of a test's own, for tests that load or compare whole databases."""

from __future__ import annotations

import uuid

import sqlalchemy as sa


class empty_postgresql:
    """A database of its own beside the test server's, dropped afterwards."""

    def __init__(self, base: str):
        self.admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        self.name = f"beatbook_upgrade_{uuid.uuid4().hex[:10]}"

    def __enter__(self) -> sa.URL:
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{self.name}"'))
        return self.admin.url.set(database=self.name)

    def __exit__(self, *exc):
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()
