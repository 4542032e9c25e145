"""Single sign-on fixtures: the real test provider (tests/oidc/provider.mjs) for the session and
an app configured for it, on SQLite or PostgreSQL like every other server test."""

from __future__ import annotations

import threading
from urllib.parse import parse_qs, urlsplit

import pytest
from oidc_provider import Provider, free_port
from werkzeug.serving import make_server

from server import create_app
from server.accounts.people import add_team
from server.db import db
from server.db.create import init_db

CALLBACK = "http://localhost/oidc/callback"


@pytest.fixture(scope="session")
def backchannel_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def provider(tmp_path_factory, backchannel_port):
    log = tmp_path_factory.mktemp("oidc") / "provider.log"
    uri = f"http://127.0.0.1:{backchannel_port}/oidc/backchannel-logout"
    found = Provider([CALLBACK], backchannel_uri=uri, log=log).start()
    yield found
    found.stop()


@pytest.fixture
def oidc_settings(provider, tmp_path) -> dict:
    for login in ("sgt.oidc", "pc.oidc", "civ.nogroup"):
        provider.enable(login)
    provider.tamper("none")
    return provider.config(tmp_path / "oidc-mapping.json")


@pytest.fixture
def sso_app(tmp_path, database_server, oidc_settings):
    url = database_server or f"sqlite:///{tmp_path / 'beatbook.sqlite'}"
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False,
            **oidc_settings,
        }
    )
    with app.app_context():
        if database_server:
            db.drop_all()
        init_db()
        add_team("NPT-A", "Alpha NPT")
    yield app
    with app.app_context():
        db.session.remove()
        if database_server:
            db.drop_all()
        db.engine.dispose()


@pytest.fixture
def sso_client(sso_app):
    return sso_app.test_client()


@pytest.fixture
def sign_in_through(provider):
    """sign_in_through(client, login, to="console") -> Beatbook's answer to the callback."""

    def run(client, login, to="console", **start):
        started = client.get("/oidc/start", query_string={"to": to, **start})
        assert started.status_code == 302, started.get_data(as_text=True)
        back = provider.sign_in(started.headers["Location"], login)
        parts = urlsplit(back)
        return client.get(parts.path, query_string=parse_qs(parts.query))

    return run


@pytest.fixture
def live_sso(sso_app, backchannel_port):
    """The app served on the port the provider sends back-channel logouts to."""
    server = make_server("127.0.0.1", backchannel_port, sso_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield sso_app
    server.shutdown()
    thread.join(timeout=10)
