"""A force judged by Dorset's 2027 catalogue moved back to 2025, so the loop measures can be
worked through on dates that have passed (a record cannot be dated in the future)."""

from __future__ import annotations

import json
from pathlib import Path

from assessment_force import Force

from server import create_app
from server.db import db
from server.db.create import init_db

STANDARDS = Path(__file__).resolve().parents[3] / "schema" / "standards"


def loop_catalogues(folder: Path) -> Path:
    """Dorset 2019 as it is, and Dorset 2027 taking effect on 1 January 2025 instead."""
    folder.mkdir(parents=True, exist_ok=True)
    old = STANDARDS / "dorset-2019-04-01.json"
    (folder / old.name).write_text(old.read_text(encoding="utf-8"), encoding="utf-8")
    raw = json.loads((STANDARDS / "dorset-2027-01-01.json").read_text(encoding="utf-8"))
    raw.update(version="2025-01-01-test", effective_from="2025-01-01")
    (folder / "dorset-2025-01-01.json").write_text(json.dumps(raw), encoding="utf-8")
    return folder


def make_app(url: str, folder: Path | None):
    config = {"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test-secret"}
    if folder is not None:
        config["CATALOGUE_DIR"] = str(folder)
    return create_app({**config, "WTF_CSRF_ENABLED": False})


class LoopForce(Force):
    """Force, with the loop's records: priorities, actions and feedback linked to them."""

    def priority(self, username: str, when: str, title: str = "Speeding", **fields) -> str:
        fields.setdefault("priority_status", "open")
        return self.add(username, when, "local_priority", title=title, standards=[], **fields)

    def feedback(self, username: str, when: str, priority: str, public: bool = True, **f) -> str:
        return self.add(username, when, "feedback", priority_id=priority, public=public, **f)

    def review_of(self, username: str, when: str, priority: str, **f) -> str:
        return self.add(username, when, "priority_review", priority_id=priority, **f)


def open_app(url: str, folder: Path | None, database_server):
    app = make_app(url, folder)
    ctx = app.app_context()
    ctx.push()
    if database_server:
        db.drop_all()
    init_db()
    return app, ctx


def close_app(ctx, database_server) -> None:
    db.session.remove()
    if database_server:
        db.drop_all()
    db.engine.dispose()
    ctx.pop()
