"""A real Beatbook 1.0.0 database (tests/fixtures/v1_0_0, made by make_v1_0_0.py with the 1.0.0
code) upgrades to head with nothing lost, and answers as 1.0.0 did; old phones keep syncing."""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from scratch_db import empty_postgresql

from server import create_app
from server.db import db, migrate
from server.db.models import CatchUpState, Record
from server.records import codes

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "v1_0_0"
PASSWORD = "beatbook-demo"
DIALECTS = ["sqlite", "postgresql"]


@pytest.fixture(params=DIALECTS)
def v1_0_0(request, tmp_path):
    """(URL of a database loaded from the 1.0.0 dump, what 1.0.0 answered on it)."""
    manifest = json.loads((FIXTURES / f"{request.param}.json").read_text())
    dump = (FIXTURES / f"{request.param}.sql").read_text()
    if request.param == "sqlite":
        path = tmp_path / "v1_0_0.sqlite"
        with sqlite3.connect(path) as conn:
            conn.executescript(dump)
        conn.close()
        yield sa.make_url(f"sqlite:///{path}"), manifest
        return
    base = os.environ.get("BEATBOOK_TEST_DATABASE_URL")
    if not base:
        pytest.skip("PostgreSQL: set BEATBOOK_TEST_DATABASE_URL")
    with empty_postgresql(base) as url:
        import psycopg

        # psql's meta-commands (pg_dump 15.14+ brackets a dump in \restrict ... \unrestrict)
        # are for psql; the rest is plain SQL.
        sql = "\n".join(line for line in dump.splitlines() if not line.startswith("\\"))
        with psycopg.connect(url.set(drivername="postgresql").render_as_string(False)) as conn:
            conn.execute(sql)
        yield url, manifest


def snapshot(url: sa.URL, like: dict[str, list[str]] | None = None) -> dict[str, list[tuple]]:
    """Every row of every application table, in a stable order, as the database holds it.

    `like` (table -> column names, from `columns()` of an earlier snapshot) reads only those
    tables and columns: what a later revision adds (new tables, new columns) is left out."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            names = sorted(like if like is not None else migrate.status(conn).tables)
            rows = {}
            for name in names:
                table = sa.Table(name, sa.MetaData(), autoload_with=conn)
                order = list(table.primary_key.columns) or list(table.columns)
                wanted = [table.c[c] for c in like[name]] if like is not None else list(table.c)
                rows[name] = [tuple(r) for r in conn.execute(sa.select(*wanted).order_by(*order))]
            if conn.dialect.name == "sqlite":  # the search index's own content
                rows["record_fts"] = [
                    tuple(r)
                    for r in conn.exec_driver_sql(
                        "SELECT rowid, summary, follow_up FROM record_fts ORDER BY rowid"
                    )
                ]
        return rows
    finally:
        engine.dispose()


def columns(url: sa.URL) -> dict[str, list[str]]:
    """Each application table's column names, as the database has them."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            found = {
                name: [c["name"] for c in sa.inspect(conn).get_columns(name)]
                for name in migrate.status(conn).tables
            }
    finally:
        engine.dispose()
    return found


class Phone:
    def __init__(self, client, token: str, device_id: str):
        self.client, self.token, self.device_id = client, token, device_id
        self.counter = 0

    @property
    def headers(self):
        return {"Authorization": f"Bearer {self.token}"}

    def stamp(self) -> str:
        self.counter += 1
        millis = int(datetime.now(timezone.utc).timestamp() * 1000)
        return f"{millis:015d}-{self.counter:05d}-{self.device_id}"

    def push(self, changes, **body):
        body = {
            "device_id": self.device_id,
            "batch_id": uuid.uuid4().hex,
            "device_now": datetime.now(timezone.utc).isoformat(),
            "pending": 0,
            "app_version": "1.1.2",
            "changes": changes,
            **body,
        }
        response = self.client.post("/api/v1/sync/push", json=body, headers=self.headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def pull_pages(self, since="", limit=100) -> list[dict]:
        pages = []
        while True:
            response = self.client.get(
                f"/api/v1/sync/pull?since={since}&limit={limit}", headers=self.headers
            )
            assert response.status_code == 200, response.get_json()
            pages.append(response.get_json())
            since = pages[-1]["cursor"]
            if not pages[-1]["more"]:
                return pages


def as_1_0_0(pages: list[dict]) -> list[dict]:
    """A pull as 1.0.0 answered it: what later versions only added is taken out again, after
    checking its shape (`review.by`, who reviewed: a user id and name, or null; `open_conflicts`,
    how many are open in all, at least the number carried; 1.2.0's `redaction` and
    `restricted`, none and false on a 1.0.0 database; 1.3.0's `alerts`, a list on the last
    page)."""
    for page in pages:
        assert isinstance(page.pop("alerts", []), list)
        for change in page["changes"]:
            by = change["review"].pop("by")
            assert by is None or (set(by) == {"id", "display_name"} and by["display_name"]), by
            assert change.pop("open_conflicts") >= len(change["conflicts"])
            assert change.pop("redaction") is None and change.pop("restricted") is False
    return pages


def console(app, username: str):
    client = app.test_client()
    client.get("/console/sign-in")
    with client.session_transaction() as session:
        token = session["csrf"]
    response = client.post(
        "/console/sign-in", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    return client


def record_links(html: str) -> list[str]:
    import re

    seen: list[str] = []
    # A link from the list carries the list's filters (for next and previous on the record).
    for found in re.findall(r'href="/console/records/([0-9a-f-]{36})(?:\?[^"#]*)?"', html):
        if found not in seen:
            seen.append(found)
    return seen


def upgraded_app(url: sa.URL):
    # CHECK_SCHEMA on: the app must accept the upgraded database as it would in production.
    return create_app(
        {
            "DATABASE_URL": url.render_as_string(hide_password=False),
            "SECRET_KEY": "test",
            "TESTING": True,
            "CHECK_SCHEMA": True,
        }
    )


def test_the_1_0_0_database_is_refused_until_upgraded(v1_0_0):
    url, _ = v1_0_0
    with pytest.raises(migrate.SchemaError, match="run `beatbook db upgrade`"):
        upgraded_app(url)


def test_upgrading_keeps_every_row_and_every_answer(v1_0_0):
    url, expected = v1_0_0
    layout, before_rows = columns(url), snapshot(url)
    before, after = migrate.upgrade(url)
    assert before.legacy and after.at_head
    assert (
        snapshot(url, like=layout) == before_rows
    )  # every record, change, conflict, review, device...
    assert set(before_rows) >= {"record", "change", "conflict", "device", "access_log"}
    assert before_rows["conflict"] and before_rows["access_log"] and before_rows["device"]

    app = upgraded_app(url)
    with app.app_context():  # the code rows 1.0.0 wrote are current: nothing to catch up
        mark = db.session.scalar(sa.select(CatchUpState.seq).where(CatchUpState.name == "codes"))
        assert mark == db.session.scalar(sa.select(sa.func.max(Record.seq)))
        assert codes.catch_up() == 0
    client = app.test_client()
    old = Phone(client, expected["phones"]["old"]["token"], expected["phones"]["old"]["device_id"])
    assert as_1_0_0(old.pull_pages()) == expected["pull"]
    admin = console(app, "admin")
    for words, ids in expected["search_results"].items():
        response = admin.get(f"/console/records?q={words}&show=all")
        assert record_links(response.get_data(as_text=True)) == ids, words
    period = expected["period"]
    assert admin.get(f"/api/v1/assessment?period={period}").get_json() == expected["grid"]
    team = admin.get(f"/api/v1/assessment/teams/NPT-WEY?period={period}&periods=2").get_json()
    assert team == expected["team_page"]
    with app.app_context():
        db.engine.dispose()


def test_a_phone_on_the_previous_app_keeps_syncing_across_the_upgrade(v1_0_0):
    """The old phone's token, cursor and stored batch answers survive; it still sends record
    schema version 1 (people, notes), which the server upgrades; its pushes search and count."""
    url, expected = v1_0_0
    migrate.upgrade(url)
    app = upgraded_app(url)
    client = app.test_client()
    phones = expected["phones"]
    old = Phone(client, phones["old"]["token"], phones["old"]["device_id"])
    spare = Phone(client, phones["spare"]["token"], phones["spare"]["device_id"])
    cursor = expected["pull"][-1]["cursor"]

    # A batch answered before the upgrade, sent again (its answer was lost): the same answer.
    replay = expected["replay"]
    response = client.post("/api/v1/sync/push", json=replay["body"], headers=old.headers)
    assert response.get_json() == replay["answer"]

    occurred = (datetime.now(timezone.utc) - timedelta(hours=3)).isoformat()
    new_id = str(uuid.uuid4())
    edited = expected["records"]["edited"]
    rev = next(c["rev"] for page in expected["pull"] for c in page["changes"] if c["id"] == edited)
    answer = old.push(
        [
            {
                "id": new_id,
                "op": "upsert",
                "hlc": old.stamp(),
                "base_rev": None,
                "data": {
                    "schema_version": 1,
                    "occurred_at": occurred,
                    "kind": "face_to_face",
                    "standards": ["F2F"],
                    "place": "Harbourside",
                    "people": 5,
                    "groups": [],
                    "notes": "Call the harbour master.",
                    "summary": "Upgradewombat patrol by the harbour.",
                },
            },
            {
                "id": edited,
                "op": "upsert",
                "hlc": old.stamp(),
                "base_rev": rev,
                "data": {"follow_up": "Shop manager called back."},
            },
        ]
    )
    assert [r["status"] for r in answer["results"]] == ["applied", "applied"], answer

    pages = spare.pull_pages(since=cursor)
    changes = {c["id"]: c for page in pages for c in page["changes"]}
    assert set(changes) == {new_id, edited}
    assert changes[new_id]["data"]["people_count"] == 5
    assert changes[new_id]["data"]["follow_up"] == "Call the harbour master."
    assert changes[edited]["data"]["follow_up"] == "Shop manager called back."
    assert changes[edited]["rev"] == rev + 1

    admin = console(app, "admin")
    html = admin.get("/console/records?q=upgradewombat&show=all").get_data(as_text=True)
    assert record_links(html) == [new_id]
    day = occurred[:7]
    grid = admin.get(f"/api/v1/assessment?period={day}").get_json()
    assert grid["period"]["label"] == day
    with app.app_context():
        db.engine.dispose()
