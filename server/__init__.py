"""Beatbook's Flask app factory: config -> extensions -> blueprints -> error handlers."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import event

from server.config import DEFAULTS, finalise, from_environment
from server.extensions import db


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(from_environment())
    app.config.update(config or {})
    finalise(app.config, app.instance_path)

    app.config["SQLALCHEMY_DATABASE_URI"] = database_url(app.config["DATABASE_URL"])
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(app.config["DATABASE_URL"]))
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = app.config["ENV"] == "production"
    app.json.sort_keys = False

    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)

    from server.catalogues import init_catalogues

    init_catalogues(app)
    _register_blueprints(app)

    from server.errors import register_error_handlers
    from server.security import register_security_headers

    register_error_handlers(app)
    register_security_headers(app)

    from server.cli import register_commands

    register_commands(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from server.api import auth, openapi, schema, sync
    from server.assessment import bp as assessment_bp
    from server.console import bp as console_bp
    from server.pwa import bp as pwa_bp

    for module in (auth, schema, sync, openapi):
        app.register_blueprint(module.bp)
    app.register_blueprint(pwa_bp)  # the officers' app at /
    app.register_blueprint(console_bp)  # supervisors' pages under /console
    app.register_blueprint(assessment_bp)  # assessment API, /console/assessment, public /teams


def database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whichever spelling the operator gave."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def engine_options(url: str) -> dict:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 10}


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets pulls read while a push writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
