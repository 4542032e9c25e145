"""SQLite and PostgreSQL give identical assessments of the same seeded force.

Runs when BEATBOOK_TEST_DATABASE_URL names a PostgreSQL server: the same seed goes into a SQLite
file and into a PostgreSQL database of this test's own, and every figure, rating, grade, what-
works row and evidence list is compared for a week, a month, a quarter and a year.
"""

from __future__ import annotations

import os
import sys
import uuid
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/, for bench.seed
from bench.seed import seed  # noqa: E402

from server import create_app  # noqa: E402
from server.db.engine import database_url  # noqa: E402

BASE = os.environ.get("BEATBOOK_TEST_DATABASE_URL")
END = datetime(2025, 12, 20, 12, 0)
NOW = datetime(2026, 1, 10, 12, 0)
PERIODS = ["2025-W27", "2025-07", "2025-Q3", "2025", "2025-Q4"]


def everything(url: str) -> dict:
    from server.assessment import serialize
    from server.assessment.evidence import evidence
    from server.assessment.grid import (
        assess_with_previous,
        resolve_period,
        scope_for,
        visible_teams,
    )
    from server.assessment.whatworks import what_works

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "x", "TESTING": True})
    found = {}
    with app.app_context():
        from server.db import db

        teams = visible_teams(None)
        for label in PERIODS:
            period = resolve_period(label, NOW)
            result = assess_with_previous(period, teams, NOW)
            found[label] = serialize.assessment_json(result)
            scope = scope_for(period, teams, NOW)
            found[label + " works"] = serialize.what_works_json(what_works(scope), teams)
            for measure in (m for s in result.catalogue.standards for m in s["measures"]):
                ev = evidence(scope, measure, teams[0].id, limit=500)
                found[f"{label} {measure['label']}"] = (
                    ev.total,
                    [(i.record_id, i.note, i.counts) for i in ev.items],
                    ev.breakdown,
                )
        db.session.remove()
        db.engine.dispose()
    return found


@pytest.mark.skipif(not BASE, reason="set BEATBOOK_TEST_DATABASE_URL to a PostgreSQL server")
def test_sqlite_and_postgresql_agree(tmp_path):
    admin = sa.create_engine(database_url(BASE), isolation_level="AUTOCOMMIT")
    name = f"beatbook_same_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    postgres = admin.url.set(database=name).render_as_string(hide_password=False)
    sqlite = f"sqlite:///{tmp_path / 'same.sqlite'}"
    try:
        for url in (sqlite, postgres):
            seed(url, records=6000, teams=5, seed=3, years=1.2, end=END)
        on_sqlite, on_postgres = everything(sqlite), everything(postgres)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    assert on_sqlite.keys() == on_postgres.keys()
    for key in on_sqlite:
        assert on_sqlite[key] == on_postgres[key], key
    # The seeded force is varied enough for the comparison to mean something.
    ratings = {s["rating"] for t in on_sqlite["2025-Q3"]["teams"] for s in t["standards"]}
    assert ratings == {"met", "partly_met", "not_met"}
