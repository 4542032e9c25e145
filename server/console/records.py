"""The logs page: every record the user may see, newest first (by when it happened or when it
reached the server), filtered from the URL, with how many match."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from server.console import options
from server.console.alerts import PANEL_MAX, local_today, visible_alerts
from server.console.bulk import BULK_MAX
from server.console.paging import (
    COUNT_BUDGET_MS,
    CursorError,
    count_matches,
    decode_cursor,
    fetch_page,
)
from server.console.record_query import SHOW, SORT_CHOICES, RecordFilter, shown_review
from server.db.access_log import returned
from server.web.audit import log_read
from server.web.session import login_required, visible_team_ids

bp = Blueprint("console_records", __name__, url_prefix="/console")


@bp.get("/records")
@login_required("supervisor", "admin")
def records_page():
    """Records newest first; filters combine; pages are cut by keyset cursors."""
    team_ids = visible_team_ids()
    filters = RecordFilter.from_args(request.args, team_ids)
    conditions = filters.conditions(team_ids)
    after = before = None
    try:
        if request.args.get("after"):
            after = decode_cursor(request.args["after"])
        elif request.args.get("before"):
            before = decode_cursor(request.args["before"])
    except CursorError as exc:
        filters.errors.append(str(exc))
    page = fetch_page(conditions, after=after, before=before, sort=filters.sort)
    count, more = count_matches(conditions, budget_ms=COUNT_BUDGET_MS)
    args = filters.to_args()
    first_page = after is None and before is None
    alerts = visible_alerts() if first_page and not filters.active else []
    log_read(
        "search_records" if filters.active else "list_records",
        "records",
        "",
        {
            "filters": args,
            "after": request.args.get("after", ""),
            "before": request.args.get("before", ""),
            **returned([row.id for row in page.rows]),
        },
    )
    return render_template(
        "console/records.html",
        filters=filters,
        page=page,
        count=count,
        more=more,
        waiting=waiting_count(filters, count, more),
        bulk_max=BULK_MAX,
        shown_review=shown_review,
        sort_choices=SORT_CHOICES,
        args=args,
        first_page=first_page,
        alerts=alerts[:PANEL_MAX],
        alerts_total=len(alerts),
        today=local_today(),
        teams=options.visible_teams(team_ids),
        officers=options.visible_officers(team_ids, filters.team_id),
        kinds=options.kind_choices(),
        standards=options.standard_choices(),
        groups=options.group_choices(),
        reviews=options.review_choices(),
        show_choices=SHOW,
        titles=options.titles(),
    )


def waiting_count(filters: RecordFilter, count: int | None, more: bool) -> int:
    """How many records "Approve" would approve: the list's own count when the list is of live
    records waiting for review (server/console/bulk.py finds them again), else none; a list
    longer than BULK_MAX is narrowed first."""
    if not filters.bulk_approvable or more or count is None or count > BULK_MAX:
        return 0
    return count
