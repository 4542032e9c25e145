"""Every SQLite connection the app opens gets the settings server/db/engine.py gives."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.db import db


def test_each_sqlite_connection_gets_the_write_path_settings(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's settings")
        with db.engine.connect() as conn:
            pragma = {
                name: conn.execute(sa.text(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "synchronous", "wal_autocheckpoint", "foreign_keys")
            }
    assert pragma == {
        "journal_mode": "wal",
        "synchronous": 1,  # NORMAL
        "wal_autocheckpoint": 10000,
        "foreign_keys": 1,
    }
