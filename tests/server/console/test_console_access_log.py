"""The access log: what is logged, the admin's search, and that nothing can change an entry."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from console_helpers import Console, access_log, push_record

from server.db import db
from server.db.models import AccessLog
from server.web.audit import AccessLogImmutable


@pytest.fixture
def activity(app, console, officer, make_user):
    """A supervisor views a record, exports, and returns it; returns (admin console, record id)."""
    record_id = push_record(officer)
    sergeant = console("supervisor", username="sgt.one")
    sergeant.text(f"/console/records/{record_id}")
    sergeant.get("/console/records/export.csv?kind=face_to_face").get_data()
    sergeant.post(f"/console/records/{record_id}/review", {"state": "returned", "comment": "Fix"})
    return console("admin", None, username="admin.one"), record_id


def test_every_view_export_and_change_is_logged_with_who_and_what(app, activity):
    _, record_id = activity
    # Sign-ins and the consultation entries of issue 11 (device sign-ins, pulls, page views)
    # are tested on their own (test_access_log_reads.py).
    rows = [
        (r.action, r.target_type, r.target_id)
        for r in access_log(app)
        if r.action in ("view_record", "export", "review")
    ]
    assert rows == [
        ("view_record", "record", record_id),
        ("export", "records", ""),
        ("review", "record", record_id),
    ]
    export = access_log(app, "export")[0]
    assert export.detail == {"filters": {"kind": "face_to_face"}, "format": "csv"}
    assert all(r.user_id is not None and r.at is not None for r in access_log(app))


def test_admin_sees_and_searches_the_log(app, activity):
    admin, record_id = activity
    html = admin.text("/console/access-log")
    assert "view_record" in html and "export" in html and "review" in html
    by_user = admin.text("/console/access-log?user=sgt.one&action=review")
    assert by_user.count('title="Only this action">review</a>') == 1
    assert 'title="Only this action">view_record</a>' not in by_user
    by_target = admin.text(f"/console/access-log?target={record_id}")
    assert (
        by_target.count(record_id) >= 2 and 'title="Only this action">export</a>' not in by_target
    )
    nobody = admin.text("/console/access-log?user=nobody")
    assert "No entries match." in nobody
    bad = admin.text("/console/access-log?date_from=last-week")
    assert "last-week is not a date" in bad


def test_date_filters(app, activity):
    admin, _ = activity
    assert "No entries match." in admin.text("/console/access-log?date_to=2020-01-01")
    assert "view_record" in admin.text("/console/access-log?date_from=2020-01-01")


def test_pages_of_the_log(app, activity):
    admin, _ = activity
    from server.console import access_log as page

    with app.app_context():
        for n in range(page.PAGE_SIZE + 5):
            db.session.add(AccessLog(action="view_record", target_type="record", target_id=f"r{n}"))
        db.session.commit()
    first = admin.text("/console/access-log?action=view_record")
    assert first.count('title="Only this action">view_record</a>') == page.PAGE_SIZE
    older = first.split('" rel="next"')[0].rsplit('href="', 1)[1].replace("&amp;", "&")
    second = admin.text(older)
    assert second.count('title="Only this action">view_record</a>') == 6  # 105 + the fixture's view


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_app_has_no_way_to_change_the_log(app, activity, method):
    admin, _ = activity
    with admin.client.session_transaction() as session:
        token = session["csrf"]
    response = getattr(admin.client, method)("/console/access-log", data={"csrf_token": token})
    assert response.status_code == 405
    before = len(access_log(app))
    assert before > 0


def test_model_refuses_updates_and_deletes(app, activity):
    with app.app_context():
        row = db.session.scalar(sa.select(AccessLog).limit(1))
        row.action = "nothing_to_see"
        with pytest.raises(AccessLogImmutable):
            db.session.commit()
        db.session.rollback()
        row = db.session.scalar(sa.select(AccessLog).limit(1))
        db.session.delete(row)
        with pytest.raises(AccessLogImmutable):
            db.session.flush()
        db.session.rollback()


def test_only_admins_see_the_log(app, activity, console):
    assert console("supervisor").get("/console/access-log").status_code == 403
    assert console("panel", None).get("/console/access-log").status_code == 403


def test_log_text_is_escaped(app, console, officer):
    record_id = push_record(officer)
    sergeant = console("supervisor")
    sergeant.post(
        f"/console/records/{record_id}/review",
        {"state": "returned", "comment": "<script>x()</script>"},
    )
    html = console("admin", None).text("/console/access-log")
    assert "<script>x()" not in html and "&lt;script&gt;x()&lt;/script&gt;" in html
    assert isinstance(sergeant, Console)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE access_log SET action = 'nothing_to_see'",
        "DELETE FROM access_log",
    ],
)
def test_the_database_refuses_updates_and_deletes_of_the_log(app, activity, statement):
    before = [(r.id, r.action) for r in access_log(app)]
    with app.app_context():
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with db.engine.begin() as conn:  # below the ORM: raw SQL on its own connection
                conn.execute(sa.text(statement))
    assert [(r.id, r.action) for r in access_log(app)] == before


def test_the_database_still_takes_new_entries_and_init_db_runs_again(app, activity):
    from server.db.create import init_db

    with app.app_context():
        init_db()  # the triggers are created idempotently
        db.session.add(AccessLog(action="view_record", target_type="record", target_id="x"))
        db.session.commit()
    assert access_log(app)[-1].target_id == "x"


def test_postgresql_refuses_truncate_of_the_log(app, activity):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("TRUNCATE is PostgreSQL's")
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with db.engine.begin() as conn:
                conn.execute(sa.text("TRUNCATE access_log"))
