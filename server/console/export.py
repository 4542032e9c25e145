"""CSV export of the filtered logs view, streamed so a force-wide export never sits in memory."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from typing import Iterator

from flask import Blueprint, Response, request, stream_with_context

from schema.records import PRIORITY_FIELDS
from server.console.paging import iter_records
from server.console.record_query import RecordFilter
from server.db import db
from server.db.access_log import add_entry, returned
from server.db.models import Record
from server.records.text import safe_cell
from server.web.audit import log_access
from server.web.session import login_required, visible_team_ids

bp = Blueprint("console_export", __name__, url_prefix="/console")

COLUMNS = [
    "id",
    "occurred_at_utc",
    "team",
    "officer",
    "officer_username",
    "kind",
    "standards",
    "groups",
    "place",
    "latitude",
    "longitude",
    "accuracy_m",
    "duration_minutes",
    "people_count",
    "summary",
    "follow_up",
    "publicised_at",
    "contact_role",
    "contact_org",
    "public",
    "review_state",
    "review_comment",
    "open_conflicts",
    "deleted",
    "rev",
    "first_synced_utc",
    "last_changed_utc",
    # Added in 1.2.0 (issue 13), at the end so 1.0.0's columns keep their places.
    "pii_confirmed",
    "text_removed",
    # Added in 1.3.0 (issue 15): the priority loop.
    "concerns",
    "priority_id",
    *PRIORITY_FIELDS,
]


def _utc(value: datetime | None) -> str:
    return value.replace(tzinfo=timezone.utc).isoformat() if value else ""


def _concerns(concerns: list | None) -> str:
    """Each concern as "category: phrase", one cell ("noise: late music | parking")."""
    return " | ".join(
        f"{c.get('category', '')}: {c['phrase']}" if c.get("phrase") else c.get("category", "")
        for c in concerns or ()
        if isinstance(c, dict)
    )


def _cell(value) -> object:
    if value is None:
        return ""
    return " ".join(value) if isinstance(value, list) else value


def csv_row(row) -> list:
    data = row.data or {}
    location = data.get("location") or {}
    return [
        safe_cell(v)
        for v in (
            row.id,
            _utc(row.occurred_at),
            row.team_code,
            row.officer_name,
            row.officer_username,
            row.kind,
            " ".join(data.get("standards") or []),
            " ".join(data.get("groups") or []),
            row.place,
            location.get("lat", ""),
            location.get("lon", ""),
            location.get("accuracy_m", ""),
            row.duration_minutes if row.duration_minutes is not None else "",
            row.people_count if row.people_count is not None else "",
            row.summary,
            row.follow_up,
            _utc(row.publicised_at),
            row.contact_role,
            row.contact_org,
            "yes" if row.public else "no",
            row.review_state,
            row.review_comment,
            row.open_conflicts,
            "yes" if row.deleted else "no",
            row.rev,
            _utc(row.created_at),
            _utc(row.updated_at),
            "yes" if row.pii_confirmed else "no",
            (row.redaction or {}).get("how", ""),
            _concerns(data.get("concerns")),
            _cell(data.get("priority_id")),
            *(_cell(data.get(name)) for name in PRIORITY_FIELDS),
        )
    ]


def csv_lines(rows) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for count, row in enumerate(rows, 1):
        writer.writerow(csv_row(row))
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _counted(rows, filters: dict, entry: dict):
    """The rows, then an access log entry saying how many left and which (a digest of their
    ids), whether the download finished or the browser stopped reading. `entry` says who, taken
    before streaming (the ORM objects of the request are expired by then)."""
    ids: list[str] = []
    complete = False
    try:
        for row in rows:
            ids.append(row.id)
            yield row
        complete = True
    finally:
        add_entry(
            "export_finished",
            target_type="records",
            **entry,
            detail={"filters": filters, "format": "csv", "complete": complete, **returned(ids)},
        )
        db.session.commit()


@bp.get("/records/export.csv")
@login_required("supervisor", "admin")
def export_csv():
    """The records the logs page shows for the same filters, every page of them, as CSV."""
    team_ids = visible_team_ids()
    filters = RecordFilter.from_args(request.args, team_ids)
    # Restricted records never leave in an export, an admin's included.
    where = [*filters.conditions(team_ids).resolved(), Record.restricted.is_(False)]
    row = log_access("export", "records", "", {"filters": filters.to_args(), "format": "csv"})
    who = {"user_id": row.user_id, "session_id": row.session_id, "address": row.address}
    db.session.commit()
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M")
    return Response(
        stream_with_context(csv_lines(_counted(iter_records(where), filters.to_args(), who))),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="beatbook-records-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )
