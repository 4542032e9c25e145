"""Beatbook's Flask app factory: config -> database -> catalogues -> blueprints -> hooks.

Every blueprint and every app-wide hook is registered here, explicitly: no module registers
anything as a side effect of being imported.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from server import public, pwa, web
from server.api import BLUEPRINTS as API_BLUEPRINTS
from server.api import assessment_openapi, openapi
from server.catalogues import init_catalogues
from server.cli import register_commands
from server.config import DEFAULTS, finalise, from_environment
from server.console import BLUEPRINTS as CONSOLE_BLUEPRINTS
from server.db import outage
from server.db.engine import init_engine
from server.db.migrate import refuse_unless_at_head
from server.errors import register_error_handlers
from server.oidc import views as oidc_views
from server.oidc.client import init_oidc
from server.records.indexer import init_indexer
from server.web.proxy import trust_proxies
from server.web.urls import install_converters


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(from_environment(strict=False))  # finalise() reports all problems
    app.config.update(config or {})
    finalise(app.config, app.instance_path)

    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = app.config["ENV"] == "production"
    app.json.sort_keys = False  # type: ignore[attr-defined]  # DefaultJSONProvider has it

    trust_proxies(app)
    init_engine(app)
    if app.config.get("CHECK_SCHEMA", not app.testing):
        refuse_unless_at_head(app)  # SchemaError: one line saying which command to run
    init_catalogues(app)
    install_converters(app)  # before any route is added
    init_oidc(app)  # single sign-on, when BEATBOOK_OIDC_ISSUER is set
    init_indexer(app)  # derived rows caught up after each commit (server/records/indexer.py)
    for blueprint in (*API_BLUEPRINTS, pwa.bp, *CONSOLE_BLUEPRINTS, public.bp, oidc_views.bp):
        app.register_blueprint(blueprint)
    openapi.add_paths(app, assessment_openapi.paths())
    web.init_app(app)
    register_error_handlers(app)
    outage.init_app(app)
    register_commands(app)
    return app
