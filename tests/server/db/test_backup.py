"""`beatbook backup` while phones push, and `beatbook restore` into an empty database."""

from __future__ import annotations

import os
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from helpers import record_data
from scratch_db import empty_postgresql

from server import create_app
from server.cli import main
from server.db import backup, db, migrate

PER_BATCH = 5


class Stream:
    """A phone pushing batch after batch: batch i creates PER_BATCH records and edits the first
    record of batch i-1. `started` and `acked` count batches sent and answered."""

    def __init__(self, app, device):
        self.client, self.device = app.test_client(), device
        self.started = self.acked = 0
        self.stop = threading.Event()
        self.errors: list = []
        self.ids: list[list[str]] = []

    def batch(self, i: int) -> list[dict]:
        occurred = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
        self.ids.append([str(uuid.uuid4()) for _ in range(PER_BATCH)])
        changes = [
            {
                "id": rid,
                "op": "upsert",
                "hlc": self.device.stamp(),
                "base_rev": None,
                "data": record_data(summary=f"b{i} r{j}", occurred_at=occurred),
            }
            for j, rid in enumerate(self.ids[i])
        ]
        if i:
            changes.append(
                {
                    "id": self.ids[i - 1][0],
                    "op": "upsert",
                    "hlc": self.device.stamp(),
                    "base_rev": 1,
                    "data": {"summary": f"edited by b{i}"},
                }
            )
        return changes

    def run(self, most: int = 200) -> None:
        try:
            for i in range(most):
                if self.stop.is_set():
                    return
                changes = self.batch(i)
                self.started += 1
                response = self.client.post(
                    "/api/v1/sync/push", headers=self.device.headers, json=self.device_body(changes)
                )
                results = response.get_json()["results"]
                assert {r["status"] for r in results} == {"applied"}, results
                self.acked += 1
        except Exception as exc:  # reported by the test, not lost in the thread
            self.errors.append(exc)

    def device_body(self, changes):
        return {
            "device_id": self.device.device_id,
            "batch_id": uuid.uuid4().hex,
            "device_now": datetime.now(timezone.utc).isoformat(),
            "pending": 0,
            "app_version": "test",
            "changes": changes,
        }

    def expected(self, batches: int) -> dict[str, tuple[str, int]]:
        """{record id: (summary, rev)} after the first `batches` batches."""
        state = {}
        for i in range(batches):
            for j, rid in enumerate(self.ids[i]):
                state[rid] = (f"b{i} r{j}", 1)
            if i:
                state[self.ids[i - 1][0]] = (f"edited by b{i}", 2)
        return state


def pulled(app, token: str) -> dict[str, tuple[str, int]]:
    client, since, found = app.test_client(), "", {}
    while True:
        page = client.get(
            f"/api/v1/sync/pull?since={since}&limit=500",
            headers={"Authorization": f"Bearer {token}"},
        ).get_json()
        found.update({c["id"]: (c["data"]["summary"], c["rev"]) for c in page["changes"]})
        since = page["cursor"]
        if not page["more"]:
            return found


@pytest.fixture
def restore_target(tmp_path, database_server):
    if database_server is None:
        yield sa.make_url(f"sqlite:///{tmp_path / 'restored.sqlite'}")
    else:
        with empty_postgresql(os.environ["BEATBOOK_TEST_DATABASE_URL"]) as url:
            yield url


def test_a_backup_taken_during_pushes_restores_what_was_committed_before_it(
    app, device, tmp_path, restore_target
):
    with app.app_context():
        url = db.engine.url
    stream = Stream(app, device)
    pusher = threading.Thread(target=stream.run)
    pusher.start()
    try:
        while stream.acked < 3 and pusher.is_alive():
            threading.Event().wait(0.01)
        acked_before = stream.acked
        outcome = backup.backup(url, tmp_path / "during.backup")
        started_after = stream.started
        while stream.acked < started_after + 2 and pusher.is_alive():
            threading.Event().wait(0.01)  # the phone keeps pushing after the backup
    finally:
        stream.stop.set()
        pusher.join()
    assert not stream.errors, stream.errors
    assert outcome.done, outcome.message
    assert stream.acked > started_after  # pushes landed after the backup too

    restored = backup.restore(restore_target, tmp_path / "during.backup")
    assert restored.done and "head" in restored.message, restored.message
    again = create_app(
        {
            "DATABASE_URL": restore_target.render_as_string(hide_password=False),
            "SECRET_KEY": "t",
            "TESTING": True,
            "CHECK_SCHEMA": True,
        }
    )
    found = pulled(again, device.token)
    with again.app_context():
        db.engine.dispose()
    batches = len(found) // PER_BATCH
    assert acked_before <= batches <= started_after
    assert found == stream.expected(batches)  # whole batches, in order, edits included
    assert pulled(app, device.token) == stream.expected(stream.acked)


def test_restore_refuses_a_database_that_is_not_empty_unless_forced(app, device, tmp_path):
    from helpers import create_change

    with app.app_context():
        url = db.engine.url
    if url.get_backend_name() != "sqlite":
        pytest.skip("the PostgreSQL refusal is the same check; pg_restore --clean is pg's")
    device.push([create_change(device, summary="Before the backup")])
    env = {"BEATBOOK_DATABASE_URL": str(url)}
    file = tmp_path / "b.sqlite"
    made = CliRunner().invoke(main, ["backup", str(file)], env=env)
    assert made.exit_code == 0 and "1 records" in made.output, made.output
    again = CliRunner().invoke(main, ["backup", str(file)], env=env)
    assert again.exit_code == 1 and "already exists" in again.output
    device.push([create_change(device, summary="After the backup")])

    refused = CliRunner().invoke(main, ["restore", str(file)], env=env)
    assert refused.exit_code == 1 and "--force" in refused.output
    assert "Traceback" not in refused.output
    assert len(pulled(app, device.token)) == 2  # untouched
    with app.app_context():
        db.session.remove()
        db.engine.dispose()  # Beatbook stopped: a restore replaces the file under it
    forced = CliRunner().invoke(main, ["restore", str(file), "--force"], env=env)
    assert forced.exit_code == 0, forced.output
    assert [s for s, _ in pulled(app, device.token).values()] == ["Before the backup"]


def test_restore_refuses_what_is_not_a_beatbook_backup(tmp_path):
    junk = tmp_path / "junk.sqlite"
    junk.write_text("not a database")
    with pytest.raises(backup.BackupError, match="not a Beatbook SQLite backup"):
        backup.restore(sa.make_url(f"sqlite:///{tmp_path / 'x.sqlite'}"), junk)


def test_without_pg_dump_the_command_is_printed_without_the_password(monkeypatch, tmp_path):
    monkeypatch.setattr(backup.shutil, "which", lambda name: None)
    url = sa.make_url("postgresql+psycopg://beatbook:s3cret@db.internal:5432/beatbook")
    outcome = backup.backup(url, tmp_path / "x.dump")
    assert not outcome.done
    assert (
        f"pg_dump --format=custom --file={tmp_path / 'x.dump'} "
        "--dbname=postgresql://beatbook@db.internal:5432/beatbook"
    ) in outcome.message
    assert "s3cret" not in outcome.message and "PGPASSWORD" in outcome.message


def test_a_restored_old_backup_says_to_upgrade(tmp_path):
    source = sa.make_url(f"sqlite:///{tmp_path / 'old.sqlite'}")
    migrate.upgrade(source)
    with sa.create_engine(source).begin() as conn:
        conn.execute(sa.text("DROP TABLE alembic_version"))  # as 1.0.0 made it
    backup.backup(source, tmp_path / "old.backup")
    outcome = backup.restore(
        sa.make_url(f"sqlite:///{tmp_path / 'new.sqlite'}"), tmp_path / "old.backup"
    )
    assert "run `beatbook db upgrade` before serving it" in outcome.message
