"""The database goes away: 503 `unavailable` with Retry-After, and recovery without a restart."""

from __future__ import annotations

import shutil
import socket
import sqlite3
import subprocess
import threading
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from helpers import PASSWORD, DeviceClient, create_change

from server.accounts.people import add_team, add_user
from server.db import db
from tests.bench.sync_server import _children as _children_of
from tests.bench.sync_server import running_server
from tests.faults import private_pg
from tests.faults.conftest import Phone, assert_error_shape


def _officer(app) -> DeviceClient:
    with app.app_context():
        add_team("NPT-ONE", "Team One", "Team One area")
        add_user("pc.outage", PASSWORD, "officer", "NPT-ONE")
    return DeviceClient(app.test_client(), "pc.outage")


def _assert_unavailable(response) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)[:300]
    assert int(response.headers["Retry-After"]) > 0
    assert_error_shape(response.get_data(), "unavailable")


@contextmanager
def _unwritable(path: Path):
    """The file cannot be written, even by root (who ignores permission bits)."""
    if (
        shutil.which("chattr")
        and subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode == 0
    ):
        undo = ["chattr", "-i", str(path)]
    else:
        path.chmod(0o444)
        undo = None
    try:
        yield
    finally:
        subprocess.run(undo, check=True) if undo else path.chmod(0o644)


@pytest.fixture
def sqlite_only(database_server):
    if database_server:
        pytest.skip("SQLite's own failures")


@pytest.fixture
def postgres_only(database_server):
    if not database_server:
        pytest.skip("PostgreSQL's own failures")
    return database_server


def test_sqlite_recovers_after_its_file_was_unwritable(sqlite_only, make_app, tmp_path):
    app = make_app()
    phone = _officer(app)
    path = Path(app.config["DATABASE_URL"].removeprefix("sqlite:///"))
    with app.app_context():
        db.engine.dispose()  # the next connection opens while the file is unwritable
    with _unwritable(path):
        _assert_unavailable(phone.push([create_change(phone)]))
    for _ in range(3):  # writable again: no restart needed
        response = phone.push([create_change(phone)])
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["results"][0]["status"] == "applied"


def test_a_locked_sqlite_answers_503_within_the_bound(sqlite_only, make_app):
    app = make_app(SQLITE_BUSY_TIMEOUT=1)
    phone = _officer(app)
    path = app.config["DATABASE_URL"].removeprefix("sqlite:///")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer that does not let go
    try:
        started = time.monotonic()
        _assert_unavailable(phone.push([create_change(phone)]))
        assert time.monotonic() - started < 4
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert phone.push([create_change(phone)]).status_code == 200


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_postgres_unreachable_answers_503(make_app):
    app = make_app()  # set up on the test database, then pointed at nothing
    phone = _officer(app)
    port = _closed_port()
    from server import create_app

    gone = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{port}/none",
        }
    )
    phone.client = gone.test_client()
    started = time.monotonic()
    _assert_unavailable(phone.push([create_change(phone)]))
    _assert_unavailable(phone.pull())
    assert time.monotonic() - started < 5
    with gone.app_context():
        db.engine.dispose()


def test_a_postgres_that_accepts_but_never_answers_is_bounded(make_app):
    """A hung database (the port open, nothing answering) costs the bound, not a minute."""
    app = make_app()
    phone = _officer(app)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held = []
    accepting = threading.Thread(target=lambda: held.append(listener.accept()), daemon=True)
    accepting.start()
    from server import create_app

    hung = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_TIMEOUT": 2,
            "DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{listener.getsockname()[1]}/x",
        }
    )
    phone.client = hung.test_client()
    try:
        started = time.monotonic()
        _assert_unavailable(phone.push([create_change(phone)]))
        assert time.monotonic() - started < 6
    finally:
        for conn, _ in held:
            conn.close()
        listener.close()
        with hung.app_context():
            db.engine.dispose()


def test_a_postgres_statement_waiting_past_the_bound_answers_503(postgres_only, make_app):
    app = make_app(DATABASE_TIMEOUT=1)
    phone = _officer(app)
    holder = sa.create_engine(postgres_only)
    with holder.connect() as conn:
        # A stuck transaction holds the row a push of this device locks first.
        conn.execute(
            sa.text("SELECT id FROM device WHERE id = :d FOR UPDATE"), {"d": phone.device_id}
        )
        started = time.monotonic()
        _assert_unavailable(phone.push([create_change(phone)]))
        assert time.monotonic() - started < 4
        conn.rollback()
    holder.dispose()
    assert phone.push([create_change(phone)]).status_code == 200


def test_postgres_connections_dropped_by_the_server_are_replaced(postgres_only, make_app):
    app = make_app()
    phone = _officer(app)
    assert phone.push([create_change(phone)]).status_code == 200
    admin = sa.create_engine(postgres_only, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:  # a restart of PostgreSQL, as the app's connections see it
        conn.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    admin.dispose()
    for _ in range(3):
        assert phone.push([create_change(phone)]).status_code == 200


def _push_until(phone, stop: threading.Event, sent: list) -> None:
    """Push small batches (and pull now and then) until `stop`; keep every answer."""
    n = 0
    while not stop.is_set():
        n += 1
        if n % 4 == 0:
            try:
                response = phone.http.get(f"{phone.server.url}/api/v1/sync/pull", timeout=30)
                sent.append(("pull", [], response.status_code, response.headers, response.content))
            except requests.RequestException as exc:
                sent.append(("pull", [], 0, {}, str(exc).encode()))
            continue
        changes = [phone.change(summary=f"Outage run {n}.{i}") for i in range(3)]
        body = phone.batch(changes)
        try:
            response = phone.push(body, timeout=30)
            sent.append((body, changes, response.status_code, response.headers, response.content))
        except requests.RequestException as exc:
            sent.append((body, changes, 0, {}, str(exc).encode()))
        time.sleep(0.05)


@pytest.mark.skipif(private_pg.binaries() is None, reason="no PostgreSQL server binaries")
def test_postgres_restarted_mid_run(tmp_path):
    """A real `beatbook serve` on a PostgreSQL of the test's own, which crashes (immediate stop)
    and comes back while a phone pushes and pulls: 503 with Retry-After while it is away, never
    part of a batch written, and pushes work again by themselves (same gunicorn workers)."""
    with private_pg.private_postgres() as pg, running_server(pg.url, tmp_path) as server:
        phone = Phone(server)
        workers = sorted(server.pids)
        stop, sent = threading.Event(), []
        pusher = threading.Thread(target=_push_until, args=(phone, stop, sent))
        pusher.start()
        try:
            time.sleep(1.5)
            pg.crash()
            down_at = len(sent)
            time.sleep(3)
            pg.start()
            up_at = len(sent)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not any(s[2] == 200 for s in sent[up_at:]):
                time.sleep(0.2)
            time.sleep(1)
        finally:
            stop.set()
            pusher.join()
        statuses = Counter(s[2] for s in sent)
        print("answers while PostgreSQL crashed and came back:", dict(statuses))
        assert set(statuses) <= {200, 503}, (
            statuses,
            [s[4][:200] for s in sent if s[2] not in (200, 503)],
        )
        assert statuses[503] > 0, "the outage was not seen"
        assert any(s[2] == 200 for s in sent[up_at:]), "no push succeeded after the restart"
        assert any(s[2] == 503 for s in sent[down_at:up_at]) or statuses[503]
        for _body, _changes, status, headers, content in sent:
            if status == 503:
                assert int(headers["Retry-After"]) > 0
                assert_error_shape(content, "unavailable")
        assert sorted(_children_of(server.pids[0]) + [server.pids[0]]) == workers, "restarted"

        pushed = [s for s in sent if s[0] != "pull"]
        held = phone.pulled_ids()
        for _body, changes, status, _h, _c in pushed:
            ids = {c["id"] for c in changes}
            if status == 200:
                assert ids <= held
            else:  # all or nothing (a commit cut off mid-way may have landed: the resend says)
                assert ids <= held or not ids & held, "part of a batch was written"
        for body, changes, status, _h, _c in pushed:  # the app sends the refused batches again
            if status != 200:
                response = phone.push(body)
                assert response.status_code == 200, response.text[:300]
                assert {r["status"] for r in response.json()["results"]} <= {"applied", "duplicate"}
        everything = [c["id"] for s in pushed for c in s[1]]
        assert phone.pulled_ids() == set(everything)
