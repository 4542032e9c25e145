"""The access log page: admins search who viewed, exported or changed what. Read-only."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, render_template, request

from server.console.access_words import action_words, detail_lines, target_words
from server.db import db
from server.db.models import AccessLog, User
from server.web.audit import log_read
from server.web.session import login_required
from server.web.timefmt import day_end_utc, day_start_utc

bp = Blueprint("console_access_log", __name__, url_prefix="/console")

PAGE_SIZE = 100


def _day(raw: str, errors: list[str]) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors.append(f"{raw} is not a date (use YYYY-MM-DD).")
        return None


def actions() -> list[str]:
    return list(
        db.session.scalars(sa.select(AccessLog.action).distinct().order_by(AccessLog.action))
    )


@bp.get("/access-log")
@login_required("admin")
def access_log_page():
    """Newest first; filter by person, action, target and dates; keyset pages on the row id."""
    args = {
        k: (request.args.get(k) or "").strip()[:120]
        for k in ("user", "action", "target", "date_from", "date_to")
    }
    errors: list[str] = []
    query = sa.select(AccessLog, User.username, User.display_name).outerjoin(
        User, User.id == AccessLog.user_id
    )
    if args["user"]:
        query = query.where(sa.func.lower(User.username) == args["user"].lower())
    if args["action"]:
        query = query.where(AccessLog.action == args["action"])
    if args["target"]:
        query = query.where(AccessLog.target_id == args["target"])
    if day := _day(args["date_from"], errors):
        query = query.where(AccessLog.at >= day_start_utc(day))
    if day := _day(args["date_to"], errors):
        query = query.where(AccessLog.at < day_end_utc(day))
    before = request.args.get("before", type=int)
    if before:
        before = min(before, 2**63 - 1)  # past any id; SQLite refuses a bigger parameter
        query = query.where(AccessLog.id < before)
    rows = list(db.session.execute(query.order_by(AccessLog.id.desc()).limit(PAGE_SIZE + 1)))
    older = rows[PAGE_SIZE - 1][0].id if len(rows) > PAGE_SIZE else None
    shown = {k: v for k, v in args.items() if v}
    # Reading the log is itself a consultation of personal data (who did what, from where).
    entries = [row[0].id for row in rows[:PAGE_SIZE]]
    log_read(
        "view_access_log",
        "access_log",
        "",
        {
            "filters": shown,
            "before": before,
            "count": len(entries),
            "ids": [entries[0], entries[-1]] if entries else [],
        },
    )
    return render_template(
        "console/access_log.html",
        rows=rows[:PAGE_SIZE],
        args=shown,
        filters=args,
        errors=errors,
        older=older,
        first_page=not before,
        actions=[(code, action_words(code)) for code in actions()],
        action_words=action_words,
        target_words=target_words,
        detail_lines=detail_lines,
    )
