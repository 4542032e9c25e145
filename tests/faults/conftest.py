"""Fault tests: a real `beatbook serve` (gunicorn) on 127.0.0.1, spoken to over raw sockets.

The server runs on SQLite, or on its own throwaway PostgreSQL database when
BEATBOOK_TEST_DATABASE_URL is set, as the rest of the suite does.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone

import pytest
import requests

from server import create_app
from server.db import db
from server.db.create import init_db
from tests.bench.sync_server import running_server, temporary_postgres

READ_TIMEOUT = 2  # seconds the test server lets a connection go quiet mid-request


@contextmanager
def _environment(**values):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """`beatbook serve --workers 2` with a short read timeout; yields its bench Server."""
    workdir = tmp_path_factory.mktemp("live")
    base = os.environ.get("BEATBOOK_TEST_DATABASE_URL")
    with _environment(BEATBOOK_READ_TIMEOUT=str(READ_TIMEOUT)):
        if base:
            with temporary_postgres(base) as url, running_server(url, workdir) as server:
                yield server
        else:
            with running_server(f"sqlite:///{workdir / 'live.sqlite'}", workdir) as server:
                yield server


class Phone:
    """A signed-in phone of the live server: requests for normal calls, raw sockets for faults."""

    def __init__(self, server):
        self.server = server
        self.http = requests.Session()
        # A connection per request, sign-in's included: a kept-alive one the server has just
        # closed (gunicorn keeps them 2 s) would fail the test's next request for a reason that
        # is not the test's.
        self.http.headers["Connection"] = "close"
        self.device_id = server.sign_in(self.http)
        self.token = self.http.headers["Authorization"].split()[1]
        self.counter = 0

    def change(self, **data) -> dict:
        self.counter += 1
        now = datetime.now(timezone.utc)
        return {
            "id": str(uuid.uuid4()),
            "op": "upsert",
            "base_rev": None,
            "hlc": f"{int(now.timestamp() * 1000):015d}-{self.counter:05d}-{self.device_id}",
            "data": {
                "occurred_at": now.isoformat(),
                "kind": "face_to_face",
                "summary": "Spoke with shop staff.",
                **data,
            },
        }

    def batch(self, changes: list[dict]) -> bytes:
        return json.dumps(
            {
                "device_id": self.device_id,
                "batch_id": uuid.uuid4().hex,
                "device_now": datetime.now(timezone.utc).isoformat(),
                "pending": 0,
                "changes": changes,
            }
        ).encode()

    def push(self, body: bytes, timeout: float = 30) -> requests.Response:
        return self.http.post(
            f"{self.server.url}/api/v1/sync/push",
            data=body,
            timeout=timeout,
            headers={"Content-Type": "application/json"},
        )

    def pulled_ids(self) -> set[str]:
        ids, cursor, more = set(), "", True
        while more:
            body = self.http.get(
                f"{self.server.url}/api/v1/sync/pull",
                params={"since": cursor, "limit": 1000},
                timeout=30,
            ).json()
            ids |= {c["id"] for c in body["changes"]}
            cursor, more = body["cursor"], body["more"]
        return ids

    def raw_push_head(self, length: int) -> bytes:
        return (
            f"POST /api/v1/sync/push HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {self.token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\n\r\n"
        ).encode()


@pytest.fixture
def phones(live_server):
    """phones() -> a new signed-in Phone; their sessions are closed after the test."""
    made = []

    def make() -> Phone:
        made.append(Phone(live_server))
        return made[-1]

    yield make
    for phone in made:
        phone.http.close()


@pytest.fixture
def phone(phones):
    return phones()


def connect(server, timeout: float = 30) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=timeout)


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names) and body of one HTTP/1.1 response on `sock`."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a response: {data[:200]!r}")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def assert_error_shape(body: bytes, code: str) -> dict:
    error = json.loads(body)["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    return error


@pytest.fixture
def make_app(tmp_path, database_server):
    """make_app(**config) -> an app on a fresh database, like conftest's `app` with overrides."""
    made = []

    def make(**config):
        url = database_server or f"sqlite:///{tmp_path / 'faults.sqlite'}"
        app = create_app(
            {"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test-secret", **config}
        )
        app.instance_path = str(tmp_path)
        with app.app_context():
            if database_server:
                db.drop_all()
            init_db()
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            if database_server:
                db.drop_all()
            db.engine.dispose()
