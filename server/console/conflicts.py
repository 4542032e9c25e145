"""The conflict queue: values that lost a concurrent edit, for a supervisor to settle."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException

from server.console import options
from server.console.record import device_names, label
from server.db import db
from server.db.access_log import returned
from server.db.models import Conflict, Record
from server.records.conflicts import resolve_conflict
from server.records.redaction import SEALED
from server.records.review import ActionError
from server.web.audit import log_access, log_read
from server.web.error_pages import PageNotFound
from server.web.session import login_required, safe_next, signed_in, visible_team_ids

bp = Blueprint("console_conflicts", __name__, url_prefix="/console")

QUEUE_SIZE = 100


class ValueFormError(ValueError):
    """A typed-in value that cannot be read as the field's type."""


def parse_value(conflict: Conflict, raw: str) -> object:
    """Read a typed-in value as the type the field holds (taken from either side's value)."""
    raw = raw.strip()
    if conflict.field == "_deleted":
        return parse_bool(raw)
    sample = next(
        (s.get("value") for s in (conflict.winner, conflict.loser) if s.get("value") is not None),
        "",
    )
    if isinstance(sample, bool):
        return parse_bool(raw)
    if isinstance(sample, int):
        if raw == "":
            return None
        try:
            return int(raw)
        except ValueError as exc:
            raise ValueFormError(f"{label(conflict.field)} is a whole number.") from exc
    if isinstance(sample, list):
        return [part.strip() for part in raw.split(",") if part.strip()]
    if isinstance(sample, dict):
        if raw == "":
            return None
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ValueFormError(
                f'Write {label(conflict.field)} as JSON, e.g. {{"lat": 50.6, '
                f'"lon": -2.4, "accuracy_m": 10}}.'
            ) from exc
    return raw


def parse_bool(raw: str) -> bool:
    word = raw.lower()
    if word in ("yes", "true", "y", "1"):
        return True
    if word in ("no", "false", "n", "0"):
        return False
    raise ValueFormError("Write yes or no.")


def _visible(query: sa.Select) -> sa.Select:
    team_ids = visible_team_ids()
    if team_ids is not None:
        query = query.where(Record.team_id.in_(sorted(team_ids)) if team_ids else sa.false())
        query = query.where(Record.restricted.is_(False))  # restricted: admins only
    return query


def _kept(conflict: Conflict, value) -> dict:
    """The kept value for the access log, which nothing can edit: free text only by its length,
    so an erasure (which reaches the change log) leaves no copy behind."""
    if conflict.field in SEALED:
        return {"value_chars": len(value) if isinstance(value, str) else None}
    return {"value": value}


@bp.get("/conflicts")
@login_required("supervisor", "admin")
def conflicts_page():
    """Open conflicts of the user's teams, oldest first so nothing waits forever."""
    after = min(request.args.get("after", type=int) or 0, 2**63 - 1)  # SQLite's integer range
    conflicts = list(
        db.session.scalars(
            _visible(sa.select(Conflict).join(Record, Record.id == Conflict.record_id))
            .options(
                selectinload(Conflict.record).selectinload(Record.officer),
                selectinload(Conflict.record).selectinload(Record.team),
            )
            .where(Conflict.status == "open", Conflict.id > after)
            .order_by(Conflict.id)
            .limit(QUEUE_SIZE + 1)
        )
    )
    more = conflicts[QUEUE_SIZE].id if len(conflicts) > QUEUE_SIZE else None
    conflicts = conflicts[:QUEUE_SIZE]
    devices = {
        s.get("device_id") for c in conflicts for s in (c.winner, c.loser) if s.get("device_id")
    }
    log_read(
        "view_conflicts",
        "records",
        "",
        {
            "after": after,
            "conflicts": [c.id for c in conflicts],
            **returned(list(dict.fromkeys(c.record_id for c in conflicts))),
        },
    )
    return render_template(
        "console/conflicts.html",
        conflicts=conflicts,
        next_after=conflicts[-1].id if more else None,
        conflict_devices=device_names(devices),
        label=label,
        titles=options.titles(),
    )


@bp.post("/conflicts/<int:conflict_id>/resolve")
@login_required("supervisor", "admin")
def resolve_conflict_action(conflict_id: int):
    """Keep either value or write a new one; the choice syncs back to phones as a normal change."""
    conflict = db.session.scalar(
        _visible(sa.select(Conflict).join(Record, Record.id == Conflict.record_id)).where(
            Conflict.id == conflict_id
        )
    )
    if conflict is None:
        raise PageNotFound()
    back = safe_next(request.form.get("next") or url_for("console_conflicts.conflicts_page"))
    choice = request.form.get("choice", "")
    try:
        if choice == "winner":
            value = conflict.winner.get("value")
        elif choice == "loser":
            value = conflict.loser.get("value")
        elif choice == "new":
            value = parse_value(conflict, request.form.get("value", ""))
        else:
            raise ValueFormError("Choose which value to keep.")
    except ValueFormError as exc:
        flash(str(exc), "error")
        if choice != "new":
            return redirect(back)
        return _show_again(back, conflict.id, request.form.get("value", ""))
    record_id = conflict.record_id
    log_access(
        "resolve_conflict",
        "record",
        record_id,
        {
            "conflict": conflict.id,
            "field": conflict.field,
            "choice": choice,
            **_kept(conflict, value),
        },
    )
    try:
        resolve_conflict(signed_in(), conflict.id, value)
    except ActionError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        if choice == "new":
            return _show_again(back, conflict.id, request.form.get("value", ""))
    else:
        flash(f"Conflict on {label(conflict.field).lower()} resolved.", "ok")
    return redirect(back)


def _show_again(back: str, conflict_id: int, typed: str):
    """The page the form was on, shown again (400) with the refused value still typed in, so a
    supervisor corrects it rather than types it again. Rendered, not redirected: the value can
    be long and is record content, which belongs in neither a cookie nor a URL."""
    g.conflict_draft = {"id": conflict_id, "value": typed}
    try:
        endpoint, args = current_app.url_map.bind("").match(urlsplit(back).path)
    except HTTPException:
        return redirect(back)
    return make_response(current_app.view_functions[endpoint](**args), 400)
