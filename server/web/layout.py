"""What every page's layout needs: the signed-in user and the navigation their role may use."""

from __future__ import annotations

import json
from dataclasses import dataclass

from flask import Flask, request

from server.web.session import current_user


@dataclass(frozen=True)
class NavItem:
    label: str
    path: str
    roles: tuple[str, ...]


# Panel members see assessments only: every other page shows free text or devices.
NAV = (
    NavItem("Records", "/console/records", ("supervisor", "admin")),
    NavItem("Conflicts", "/console/conflicts", ("supervisor", "admin")),
    NavItem("Teams", "/console/teams", ("supervisor", "admin")),
    NavItem("Activity", "/console/activity", ("supervisor", "admin")),
    NavItem("Assessment", "/console/assessment", ("supervisor", "admin", "panel")),
    NavItem("Accounts", "/console/users", ("admin",)),
    NavItem("Access log", "/console/access-log", ("admin",)),
    NavItem("Subject access", "/console/subject-access", ("admin",)),
)


def nav_for(role: str | None) -> list[dict]:
    if role is None:
        return []
    here = request.path
    return [
        {"label": item.label, "path": item.path, "current": here.startswith(item.path)}
        for item in NAV
        if role in item.roles
    ]


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
