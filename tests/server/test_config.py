"""Configuration layering and safe production defaults."""

from __future__ import annotations

import pytest

from server import create_app
from server.config import ConfigError, from_environment
from server.db.engine import database_url


def test_production_without_a_secret_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="BEATBOOK_SECRET_KEY"):
        create_app({"ENV": "production", "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite"})


def test_environment_variables_are_read_and_checked():
    assert from_environment({"BEATBOOK_MAX_CHANGES": "100", "BEATBOOK_CATALOGUE": "kent"}) == {
        "MAX_CHANGES": 100,
        "CATALOGUE": "kent",
    }
    with pytest.raises(ConfigError, match="whole number"):
        from_environment({"BEATBOOK_MAX_CHANGES": "lots"})


def test_postgres_urls_use_psycopg():
    assert database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("sqlite:///x") == "sqlite:///x"


def test_security_headers_on_every_response(client):
    response = client.get("/api/v1/schema")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
