"""Data protection actions in the console: restrict a record, erase its free text now (a
supervisor for their own teams, or an admin), and subject access exports (admins).

Each is irreversible through the app, logged in the access log in the action's own
transaction, and reaches phones on their next pull (server/records/redaction.py).
"""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from server.console.record import visible_record
from server.db import db
from server.records import redaction
from server.records.subject_access import SubjectAccessError, export
from server.web.audit import log_access
from server.web.session import current_user, login_required, session_ref

bp = Blueprint("console_protection", __name__, url_prefix="/console")

MAX_REASON = 500


def _reason() -> str | None:
    """The reason given, or None after saying what is missing (a confirmation, a reason)."""
    reason = request.form.get("reason", "").strip()[:MAX_REASON]
    if request.form.get("confirm") != "yes":
        flash("Tick the box to confirm: this cannot be undone.", "error")
        return None
    if not reason:
        flash("Give a reason: it is kept in the access log.", "error")
        return None
    return reason


@bp.post("/records/<record_id>/erase")
@login_required("supervisor", "admin")
def erase_text(record_id: str):
    """Remove the record's summary, follow-up, place and map position now, for good."""
    record = visible_record(record_id)
    back = redirect(url_for("console_record.record_page", record_id=record.id))
    reason = _reason()
    if reason is None:
        return back
    if record.redaction:
        flash("This record's text has already been removed.", "error")
        return back
    user = current_user()
    assert user is not None  # login_required
    if not redaction.redact(db.session, [record.id], "erasure", by_id=user.id, why=reason):
        db.session.rollback()  # another erasure got there first: nothing done, nothing logged
        flash("This record's text has already been removed.", "error")
        return back
    log_access("erase_text", "record", record.id, {"reason": reason})
    db.session.commit()
    flash("The record's free text was erased; phones lose it on their next sync.", "ok")
    return back


@bp.post("/records/<record_id>/restrict")
@login_required("supervisor", "admin")
def restrict_record(record_id: str):
    """Hide the record from all but admins, and from exports and public pages; still counted."""
    record = visible_record(record_id)
    reason = _reason()
    if reason is None:
        return redirect(url_for("console_record.record_page", record_id=record.id))
    if record.restricted:
        flash("This record is already restricted.", "error")
        return redirect(url_for("console_record.record_page", record_id=record.id))
    user = current_user()
    assert user is not None
    log_access("restrict_record", "record", record.id, {"reason": reason})
    redaction.restrict(db.session, [record.id], by_id=user.id)
    db.session.commit()
    flash("The record is restricted: only admins can see it now.", "ok")
    if user.role == "admin":
        return redirect(url_for("console_record.record_page", record_id=record.id))
    return redirect(url_for("console_records.records_page"))


@bp.route("/subject-access", methods=["GET", "POST"])
@login_required("admin")
def subject_access():
    """Find every record and change-log entry mentioning a phrase, and download them."""
    if request.method == "GET":
        return render_template("console/subject_access.html", form={})
    form = {k: request.form.get(k, "").strip()[:200] for k in ("phrase", "reference", "format")}
    fmt = form["format"] or "json"
    user = current_user()
    assert user is not None
    try:
        text = export(
            form["phrase"], form["reference"], fmt, user_id=user.id, session_id=session_ref()
        )
    except SubjectAccessError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return render_template("console/subject_access.html", form=form), 400
    db.session.commit()
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M")
    return Response(
        text,
        mimetype="application/json" if fmt == "json" else "text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="subject-access-{stamp}.{fmt}"',
            "Cache-Control": "no-store",
        },
    )
