"""Reviewing a record: approve it, or return it to the officer with a comment."""

from __future__ import annotations

from flask import Blueprint, flash, g, make_response, redirect, request, url_for

from server.console.record import record_page, visible_record
from server.db import db
from server.records.review import ActionError, review_record
from server.web.audit import log_access
from server.web.session import login_required, signed_in

bp = Blueprint("console_review", __name__, url_prefix="/console")

MAX_COMMENT = 2000


@bp.post("/records/<record_id>/review")
@login_required("supervisor", "admin")
def review_record_action(record_id: str):
    """Approve or return; the officer's app shows the state and comment after its next pull."""
    record = visible_record(record_id)
    state = request.form.get("state", "")
    comment = request.form.get("comment", "").strip()[:MAX_COMMENT]
    if record.deleted:
        flash("A deleted record cannot be reviewed.", "error")
        return redirect(url_for("console_record.record_page", record_id=record.id))
    if state == "returned" and not comment:
        # Said beside the comment box (the page again, 400), not in a banner above the page.
        g.review_error = "Say what the officer should fix: the comment is needed to return it."
        g.typed_comment = request.form.get("comment", "")[:MAX_COMMENT]
        return make_response(record_page(record.id), 400)
    # Logged in the action's own transaction: both are written or neither.
    log_access("review", "record", record.id, {"state": state, "comment": comment})
    try:
        review_record(signed_in(), record.id, state, comment)
    except ActionError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        done = "approved" if state == "approved" else "returned to the officer"
        flash(f"Record {done}.", "ok")
    return redirect(url_for("console_record.record_page", record_id=record.id))
