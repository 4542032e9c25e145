"""Approving every record of a list filtered to those waiting for review (new or resubmitted)
at once, after the supervisor confirms the count. The server finds the records again from the
filter (within the user's teams), and each is approved through the same review path as on its
own page, with its own access-log entry."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, request, url_for

from server.console.query_plan import Conditions
from server.console.record_query import RecordFilter
from server.db import db
from server.db.models import Record
from server.records.review import ActionError, approve_records
from server.web.audit import log_access
from server.web.session import current_user, login_required, visible_team_ids

bp = Blueprint("console_bulk", __name__, url_prefix="/console")

BULK_MAX = 500  # one transaction holds the writers' lock: a bigger list is narrowed first


def approvable(filters: RecordFilter, team_ids: set[int] | None) -> Conditions:
    """The list's records that an approval would change: waiting (new or resubmitted), live."""
    conditions = filters.conditions(team_ids)
    conditions.fixed.extend([Record.review_state == "pending", Record.deleted.is_(False)])
    return conditions


def _ids(conditions: Conditions, limit: int) -> list[str]:
    query = (
        sa.select(Record.id)
        .where(*conditions.resolved())
        .order_by(Record.occurred_at.desc(), Record.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


@bp.post("/records/approve")
@login_required("supervisor", "admin")
def approve_list():
    """Approve the waiting records of the filtered list the form came from; the form says how
    many the supervisor was shown, and a list that has changed since is not approved."""
    team_ids = visible_team_ids()
    filters = RecordFilter.from_args(request.form, team_ids)
    back = url_for("console_records.records_page", **filters.to_args())
    expected = request.form.get("expected", "")
    if filters.errors or not filters.bulk_approvable:
        flash("Only a list of records waiting for review can be approved at once.", "error")
        return redirect(back)
    ids = _ids(approvable(filters, team_ids), BULK_MAX + 1)
    if len(ids) > BULK_MAX:
        flash(f"More than {BULK_MAX} records are waiting in this list: narrow it first.", "error")
        return redirect(back)
    if not expected.isascii() or not expected.isdigit() or int(expected[:9]) != len(ids):
        flash(
            f"The list changed since you looked: {len(ids)} records are waiting in it now. "
            "Check them and approve again.",
            "error",
        )
        return redirect(back)
    for record_id in ids:
        # One entry per record, written in the approval's own transaction.
        log_access("review", "record", record_id, {"state": "approved", "bulk": len(ids)})
    try:
        done = approve_records(current_user(), ids)
    except ActionError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(f"{done:,} record{'s' if done != 1 else ''} approved.", "ok")
    return redirect(back)
