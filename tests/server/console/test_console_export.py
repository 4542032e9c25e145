"""CSV export of the filtered view: streamed, same filters and visibility, safe for spreadsheets."""

from __future__ import annotations

import csv
import io

from console_helpers import access_log, push_record

from server.console.export import COLUMNS, safe_cell
from server.console.paging import iter_records


def _rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_export_streams_the_filtered_view(app, console, officer, other_officer):
    school = push_record(
        officer,
        kind="school_visit",
        summary="Assembly",
        place="St Mary's",
        location={"lat": 50.5, "lon": -2.1, "accuracy_m": 5},
    )
    push_record(officer, summary="Foot patrol")
    push_record(other_officer, kind="school_visit", summary="Other team's assembly")
    response = console("supervisor").get("/console/records/export.csv?kind=school_visit")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="beatbook-')
    rows = _rows(response)
    assert [r["id"] for r in rows] == [school]
    row = rows[0]
    assert list(row) == COLUMNS
    assert row["summary"] == "Assembly" and row["place"] == "St Mary's"
    assert row["latitude"] == "50.5" and row["longitude"] == "-2.1"
    assert row["team"] == "NPT-ONE" and row["officer_username"] == "pc.one"
    assert row["standards"] and row["review_state"] == "pending" and row["deleted"] == "no"


def test_export_search_and_whole_force_for_admin(app, console, officer, other_officer):
    a = push_record(officer, summary="Speeding on the high road")
    b = push_record(other_officer, summary="Speeding near school")
    push_record(other_officer, summary="Litter")
    rows = _rows(console("admin", None).get("/console/records/export.csv?q=speeding"))
    assert {r["id"] for r in rows} == {a, b}


def test_export_is_logged_with_its_filters(app, console, officer):
    console("supervisor").get("/console/records/export.csv?q=patrol&review=pending").get_data()
    (entry,) = access_log(app, "export")
    assert entry.detail["filters"] == {"q": "patrol", "review": "pending"}


def test_formula_cells_are_neutralised(app, console, officer):
    push_record(officer, summary='=HYPERLINK("http://evil","click")', place="+44 1234")
    row = _rows(console("supervisor").get("/console/records/export.csv"))[0]
    assert row["summary"].startswith("'=") and row["place"] == "'+44 1234"
    assert safe_cell("-1") == "'-1" and safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("plain") == "plain" and safe_cell(5) == 5


def test_export_reads_in_keyset_batches(app, console, officer):
    from helpers import create_change

    changes = [create_change(officer) for _ in range(25)]
    officer.push(changes)
    with app.app_context():
        from werkzeug.datastructures import MultiDict

        from server.console.record_query import RecordFilter

        where = RecordFilter.from_args(MultiDict(), None).conditions(None).resolved()
        ids = [row.id for row in iter_records(where, batch=7)]
    assert len(ids) == 25 and len(set(ids)) == 25
    rows = _rows(console("supervisor").get("/console/records/export.csv"))
    assert [r["id"] for r in rows] == ids


def test_export_carries_the_priority_loop(app, console, officer):
    priority = push_record(
        officer,
        kind="local_priority",
        standards=[],
        title="Speeding on Mill Lane",
        summary="Set at PACT",
        priority_status="in_progress",
        review_by="2026-12-31",
    )
    push_record(
        officer,
        summary="Speed check",
        priority_id=priority,
        concerns=[{"category": "speeding", "phrase": "after school"}, {"category": "parking"}],
    )
    rows = {r["id"]: r for r in _rows(console("supervisor").get("/console/records/export.csv"))}
    action = next(r for r in rows.values() if r["priority_id"] == priority)
    assert action["concerns"] == "speeding: after school | parking"
    assert action["title"] == "" and action["priority_status"] == ""
    row = rows[priority]
    assert (row["title"], row["priority_status"], row["review_by"]) == (
        "Speeding on Mill Lane",
        "in_progress",
        "2026-12-31",
    )
