"""The per-address sign-in limit sees the phone's address behind a trusted proxy (issue 11)."""

from __future__ import annotations

import pytest

from server import create_app
from server.db import db


@pytest.fixture
def proxied_app(app):
    """The test app's database, served as if behind one reverse proxy."""
    behind = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": app.config["DATABASE_URL"],
            "SECRET_KEY": "test-secret",
            "TRUSTED_PROXIES": 1,
        }
    )
    yield behind
    with behind.app_context():
        db.session.remove()
        db.engine.dispose()


def _fail(client, username, forwarded, peer="10.0.0.1"):
    return client.post(
        "/api/v1/auth/device",
        json={"username": username, "password": "wrong-password-x", "device_name": "p"},
        headers={"X-Forwarded-For": forwarded},
        environ_base={"REMOTE_ADDR": peer},
    )


def test_behind_a_trusted_proxy_the_limit_counts_each_phone(proxied_app, app, make_user):
    app.config["SIGNIN_FAILURES_PER_ADDRESS"] = 3
    proxied_app.config["SIGNIN_FAILURES_PER_ADDRESS"] = 3
    proxied_app.config["SIGNIN_FAILURES_PER_ACCOUNT"] = 1000
    client = proxied_app.test_client()
    for n in range(3):
        assert _fail(client, f"nobody{n}", "203.0.113.5").status_code == 401
    assert _fail(client, "nobody9", "203.0.113.5").status_code == 429
    # Another phone behind the same proxy is not blocked by the first one's failures.
    assert _fail(client, "nobody9", "198.51.100.7").status_code == 401


def test_a_forged_header_hop_is_not_trusted(proxied_app, make_user):
    proxied_app.config["SIGNIN_FAILURES_PER_ADDRESS"] = 3
    proxied_app.config["SIGNIN_FAILURES_PER_ACCOUNT"] = 1000
    client = proxied_app.test_client()
    for n in range(3):
        # The client's own "1.2.3.n" is ahead of what the proxy appended: only the last counts.
        assert _fail(client, f"x{n}", f"1.2.3.{n}, 203.0.113.5").status_code == 401
    assert _fail(client, "x9", "1.2.3.99, 203.0.113.5").status_code == 429


def test_without_trusted_proxies_the_header_is_ignored(app, client, make_user):
    app.config["SIGNIN_FAILURES_PER_ADDRESS"] = 3
    app.config["SIGNIN_FAILURES_PER_ACCOUNT"] = 1000
    for n in range(3):
        assert _fail(client, f"y{n}", f"203.0.113.{n}").status_code == 401
    # An untrusted peer cannot escape the limit by sending a new X-Forwarded-For each time.
    assert _fail(client, "y9", "203.0.113.77").status_code == 429


def test_trusted_proxies_come_from_the_environment():
    from server.config import from_environment

    assert from_environment({"BEATBOOK_TRUSTED_PROXIES": "2"}) == {"TRUSTED_PROXIES": 2}
