"""What every page's layout needs: the signed-in user and the navigation their role may use."""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask, request

from server.db import db
from server.db.models import Record
from server.web.session import current_user, visible_team_ids


@dataclass(frozen=True)
class NavItem:
    label: str
    path: str
    roles: tuple[str, ...]


# Panel members see assessments only: every other page shows free text or devices.
NAV = (
    NavItem("Records", "/console/records", ("supervisor", "admin")),
    NavItem("Alerts", "/console/alerts", ("supervisor", "admin")),
    NavItem("Conflicts", "/console/conflicts", ("supervisor", "admin")),
    NavItem("Teams", "/console/teams", ("supervisor", "admin")),
    NavItem("Priorities", "/console/priorities", ("supervisor", "admin")),
    NavItem("Phones", "/console/phones", ("supervisor", "admin")),
    NavItem("Activity", "/console/activity", ("supervisor", "admin")),
    NavItem("Assessment", "/console/assessment", ("supervisor", "admin", "panel")),
    NavItem("Accounts", "/console/users", ("admin",)),
    NavItem("Access log", "/console/access-log", ("admin",)),
    NavItem("Subject access", "/console/subject-access", ("admin",)),
)


def open_conflicts() -> int | None:
    """Open conflicts in the user's teams, for the menu (the partial index on records with
    conflicts makes this a short read); None when the database cannot say (an error page)."""
    query = sa.select(sa.func.coalesce(sa.func.sum(Record.open_conflicts), 0)).where(
        Record.open_conflicts > 0
    )
    team_ids = visible_team_ids()
    if team_ids is not None:
        query = query.where(Record.team_id.in_(sorted(team_ids)) if team_ids else sa.false())
    try:
        return int(db.session.scalar(query) or 0)
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return None


def nav_for(role: str | None) -> list[dict]:
    if role is None:
        return []
    here = request.path
    items = []
    for item in NAV:
        if role not in item.roles:
            continue
        found = {"label": item.label, "path": item.path, "current": here.startswith(item.path)}
        if item.path == "/console/conflicts":
            found["count"] = open_conflicts()
        items.append(found)
    return items


def json_text(value: object) -> str:
    """JSON for reading on a page; autoescaping then makes it safe HTML."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def init_layout(app: Flask) -> None:
    app.jinja_env.filters["json_text"] = json_text

    @app.after_request
    def _no_store(response):
        # Console pages show personal data: never keep them in a shared or back-button cache.
        if request.path.startswith("/console") and not request.path.startswith("/console/static"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.context_processor
    def _layout() -> dict:
        if not request.path.startswith("/console"):
            return {}
        user = current_user()
        return {"console_user": user, "console_nav": nav_for(user.role if user else None)}
