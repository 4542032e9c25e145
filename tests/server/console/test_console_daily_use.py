"""Issue 17, the sergeant's everyday use: the list's order, count and highlights, next and
previous on a record, resubmitted records, bulk approval, conflicts' headings and differences,
the phones page and the access log in plain words."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from console_helpers import (
    TEAM,
    access_log,
    edit_record,
    make_conflict,
    push_record,
    record_links,
    record_row,
)
from helpers import DeviceClient

from server.db import db
from server.db.models import Change, Device, Record


def _ago(**delta) -> str:
    return (datetime.now(timezone.utc) - timedelta(**delta)).isoformat(timespec="milliseconds")


def _set_received(app, record_id: str, when: datetime) -> None:
    with app.app_context():
        db.session.execute(sa.update(Record).where(Record.id == record_id).values(created_at=when))
        db.session.commit()


# --- 13: order, count, highlights, next and previous -------------------------------------------


def test_sorted_by_received_puts_what_just_synced_first(app, console, officer):
    old_event = push_record(officer, occurred_at=_ago(days=5), summary="Happened long ago")
    recent_event = push_record(officer, occurred_at=_ago(hours=1), summary="Happened just now")
    _set_received(app, recent_event, datetime.utcnow() - timedelta(days=1))
    person = console("supervisor")
    assert record_links(person.text("/console/records")) == [recent_event, old_event]
    html = person.text("/console/records?sort=received")
    assert record_links(html) == [old_event, recent_event]
    assert "<th>Received</th>" in html
    assert "newest first by when received" in html


def test_sorted_by_received_pages_with_its_own_cursor(app, console, officer, monkeypatch):
    ids = [push_record(officer, occurred_at=_ago(hours=n + 1)) for n in range(3)]
    base = datetime.utcnow() - timedelta(days=1)
    for n, record_id in enumerate(ids):  # received in the opposite order to when they happened
        _set_received(app, record_id, base + timedelta(minutes=10 * (3 - n)))
    from server.console import paging

    monkeypatch.setitem(paging.fetch_page.__kwdefaults__, "size", 2)
    person = console("supervisor")
    first = person.text("/console/records?sort=received")
    assert record_links(first) == ids[:2]
    older = re.search(r'href="([^"]*after=[^"]*)" rel="next"', first).group(1)
    assert "sort=received" in older
    second = person.text(older.replace("&amp;", "&"))
    assert record_links(second) == ids[2:]


def test_the_list_says_how_many_match(app, console, officer):
    for n in range(3):
        push_record(officer, summary=f"Parking complaint {n}")
    push_record(officer, summary="Dog fouling")
    person = console("supervisor")
    assert "4 records" in person.text("/console/records")
    assert "3 records match" in person.text("/console/records?q=parking")
    assert "1 record matches" in person.text("/console/records?q=fouling")


def test_the_count_stops_at_its_cap(app, console, officer, monkeypatch):
    from server.console import paging

    for _ in range(3):
        push_record(officer)
    monkeypatch.setattr(paging, "COUNT_CAP", 2)
    monkeypatch.setattr(paging.count_matches, "__defaults__", (2, None))
    assert "More than 2 records" in console("supervisor").text("/console/records")


def test_search_words_are_marked_as_prefixes_and_escaped(app, console, officer):
    push_record(officer, summary="Parked cars <b>blocking</b> the school gate")
    html = console("supervisor").text("/console/records?q=park+school")
    assert "<mark>Parked</mark> cars &lt;b&gt;blocking&lt;/b&gt; the <mark>school</mark>" in html


def test_record_page_links_to_its_neighbours_in_the_list(app, console, officer):
    older = push_record(officer, occurred_at=_ago(hours=3), summary="Parking one")
    push_record(officer, occurred_at=_ago(hours=2), summary="Dog fouling")
    newer = push_record(officer, occurred_at=_ago(hours=1), summary="Parking two")
    person = console("supervisor")
    listed = person.text("/console/records?q=parking")
    link = re.search(rf'href="(/console/records/{newer}\?[^"]*)"', listed).group(1)
    html = person.text(link.replace("&amp;", "&"))
    nxt = re.search(r'href="/console/records/([0-9a-f-]{36})\?q=parking" rel="next"', html)
    assert nxt and nxt.group(1) == older  # the fouling record is not in this list
    assert "Newest in the list" in html
    back = person.text(f"/console/records/{older}?q=parking")
    assert re.search(rf'href="/console/records/{newer}\?q=parking" rel="prev"', back)
    assert "Oldest in the list" in back


# --- 14: resubmitted ----------------------------------------------------------------------------


def test_a_record_fixed_after_a_return_is_resubmitted(app, console, officer):
    record_id = push_record(officer, summary="Spoke to people")
    untouched = push_record(officer, summary="Nothing to fix")
    person = console("supervisor")
    person.post(
        f"/console/records/{record_id}/review", {"state": "returned", "comment": "Add the group."}
    )
    assert edit_record(officer, record_id, 1, groups=["businesses"])["status"] == "applied"
    # What phones, the public page and the assessment read is unchanged: still "pending".
    assert record_row(app, record_id).review_state == "pending"
    pulled = next(c for c in officer.pull().get_json()["changes"] if c["id"] == record_id)
    assert pulled["review"]["state"] == "pending"

    listed = person.text("/console/records")
    row = listed[listed.index(record_id) :]
    assert 'badge-resubmitted">Resubmitted<' in row[: row.index("</tr>")]
    assert record_links(person.text("/console/records?review=resubmitted")) == [record_id]
    assert set(record_links(person.text("/console/records?review=pending"))) == {
        record_id,
        untouched,
    }
    html = person.text(f"/console/records/{record_id}")
    note = re.sub(r"\s+", " ", html[html.index('id="resubmitted"') :][:600])
    assert "Resubmitted</span> by pc.one" in note
    assert "after your return at" in note and "<q>Add the group.</q>" in note
    assert "Waiting</span>" not in html


def test_a_deleted_record_is_listed_as_deleted_only(app, console, officer):
    record_id = push_record(officer)
    officer.push([{"id": record_id, "op": "delete", "hlc": officer.stamp(), "base_rev": 1}])
    html = console("supervisor").text("/console/records?show=deleted")
    row = html[html.index(record_id) :]
    row = row[: row.index("</tr>")]
    assert "Deleted" in row and "Waiting" not in row


# --- 16: bulk approval --------------------------------------------------------------------------


def _bulk(person, expected: int, **filters):
    return person.post("/console/records/approve", {**filters, "expected": str(expected)})


def test_bulk_approve_approves_the_waiting_records_of_the_list_each_logged(
    app, console, officer, other_officer
):
    mine = [push_record(officer, summary=f"Parking {n}") for n in range(3)]
    other = push_record(officer, summary="Dog fouling")
    theirs = push_record(other_officer, summary="Parking elsewhere")
    returned = push_record(officer, summary="Parking, returned")
    person = console("supervisor")
    person.post(f"/console/records/{returned}/review", {"state": "returned", "comment": "Fix"})
    assert "console/records/approve" not in person.text("/console/records?q=parking")
    html = person.text("/console/records?q=parking&review=pending")
    assert "Approve all 3 records" in html and 'name="expected" value="3"' in html
    response = _bulk(person, 3, q="parking", review="pending")
    assert response.status_code == 302 and "q=parking" in response.headers["Location"]
    assert record_row(app, returned).review_state == "returned"
    assert {record_row(app, r).review_state for r in mine} == {"approved"}
    assert record_row(app, other).review_state == "pending"
    assert record_row(app, theirs).review_state == "pending"  # another team's: not touched
    logged = [e for e in access_log(app, "review") if e.target_id != returned]
    assert sorted(e.target_id for e in logged) == sorted(mine)
    assert {e.detail["bulk"] for e in logged} == {3}
    with app.app_context():
        reviews = db.session.scalars(
            sa.select(Change).where(Change.op == "review", Change.record_id != returned)
        ).all()
        assert sorted(c.record_id for c in reviews) == sorted(mine)
    pulled = {c["id"]: c for c in officer.pull().get_json()["changes"]}
    assert {pulled[r]["review"]["state"] for r in mine} == {"approved"}


def test_bulk_approve_of_resubmitted_records(app, console, officer):
    fixed = push_record(officer, summary="Fixed one")
    new = push_record(officer, summary="New one")
    person = console("supervisor")
    person.post(f"/console/records/{fixed}/review", {"state": "returned", "comment": "Fix"})
    edit_record(officer, fixed, 1, place="The market")
    assert "Approve 1 record" in person.text("/console/records?review=resubmitted")
    _bulk(person, 1, review="resubmitted")
    assert record_row(app, fixed).review_state == "approved"
    assert record_row(app, new).review_state == "pending"


def test_bulk_approve_refuses_a_list_that_changed(app, console, officer):
    push_record(officer, summary="Parking 1")
    person = console("supervisor")
    push_record(officer, summary="Parking 2")  # synced after the sergeant saw "1 waiting"
    response = _bulk(person, 1, q="parking", review="pending")
    assert response.status_code == 302
    assert "The list changed since you looked: 2 records" in person.text(
        response.headers["Location"]
    )
    assert access_log(app, "review") == []


def test_bulk_approve_needs_a_waiting_list_and_the_token(app, console, officer):
    record_id = push_record(officer)
    person = console("supervisor")
    for filters in ({}, {"q": "summary"}, {"review": "pending", "show": "all"}):
        response = _bulk(person, 1, **filters)
        assert "Only a list of records waiting" in person.text(response.headers["Location"])
    assert record_row(app, record_id).review_state == "pending"
    forged = person.client.post(
        "/console/records/approve", data={"q": "", "review": "pending", "expected": "1"}
    )
    assert forged.status_code == 400
    assert record_row(app, record_id).review_state == "pending"


def test_bulk_approve_is_refused_to_the_panel(app, console, officer):
    record_id = push_record(officer)
    assert _bulk(console("panel", None), 1, review="pending").status_code == 403
    assert record_row(app, record_id).review_state == "pending"


# --- 17: conflicts ------------------------------------------------------------------------------


def test_conflict_heading_names_officer_and_kind_and_marks_differences(app, client, make_user):
    name = make_user("officer", TEAM, username="pc.three")
    a = DeviceClient(client, name, "Phone A")
    b = DeviceClient(client, name, "Phone B")
    make_conflict(app, a, b, summary="First")
    from console_helpers import Console

    person = Console(app, make_user("supervisor", TEAM))
    html = person.text("/console/conflicts")
    heading = re.search(r"<h2>Summary(.*?)</h2>", html, re.S).group(1)
    assert "pc.three's" in heading
    assert '<mark class="differs">First</mark>' in html
    assert '<mark class="differs">Second</mark>' in html
    assert 'class="new-value' in html
    nav = html[html.index('aria-label="Console"') :][:2000]
    assert re.search(r'Conflicts <span class="nav-count">1<', nav)


# --- 18: phones page ----------------------------------------------------------------------------


def test_phones_page_lists_the_teams_phones_and_revokes_back_to_itself(
    app, console, officer, other_officer
):
    person = console("supervisor")
    html = person.text("/console/phones")
    assert "Pixel of pc.one" in html and "Pixel of pc.two" not in html
    assert "1 phone in use" in html
    with app.app_context():
        device_id = db.session.scalar(sa.select(Device.id).where(Device.name == "Pixel of pc.one"))
    response = person.post(f"/console/devices/{device_id}/revoke", {"next": "/console/phones"})
    assert response.headers["Location"] == "/console/phones"
    assert "0 phones in use" in person.text("/console/phones")
    assert "Revoked" in person.text("/console/phones?show=revoked")
    assert [e.action for e in access_log(app) if e.action == "view_phones"]


def test_person_page_keeps_deactivation_out_of_the_team_card(app, console, officer):
    person = console("supervisor")
    with app.app_context():
        from server.db.models import User

        officer_id = db.session.scalar(sa.select(User.id).where(User.username == "pc.one"))
    html = person.text(f"/console/people/{officer_id}")
    team_card = html[html.index('id="team"') : html.index('id="devices"')]
    assert "Move to team" in team_card and "Deactivat" not in team_card
    assert "Deactivate officer" in html[html.index('id="access"') :]
    assert "<th></th>" not in html


# --- 19: plain words ----------------------------------------------------------------------------


def test_access_log_reads_in_plain_words_and_still_filters_by_code(app, console, officer):
    admin = console("admin", None)
    with app.app_context():
        device_id = db.session.scalar(sa.select(Device.id))
    admin.post(f"/console/devices/{device_id}/revoke")
    html = admin.text("/console/access-log")
    assert "Revoked a phone" in html
    assert '<option value="revoke_device">Revoked a phone</option>' in html
    assert "Officer:</strong> pc.one" in html
    assert "&#34;user&#34;" not in html
    only = admin.text("/console/access-log?action=revoke_device")
    assert only.count("<tr>") == 2  # the header and the one revocation


def test_access_log_says_which_value_a_conflict_kept(app, client, make_user):
    from console_helpers import Console

    name = make_user("officer", TEAM, username="pc.four")
    _, conflict_id = make_conflict(
        app, DeviceClient(client, name, "A"), DeviceClient(client, name, "B")
    )
    sergeant = Console(app, make_user("supervisor", TEAM))
    sergeant.post(f"/console/conflicts/{conflict_id}/resolve", {"choice": "loser"})
    html = Console(app, make_user("admin", None)).text(
        "/console/access-log?action=resolve_conflict"
    )
    assert "Kept:</strong> the other change" in html and "choice: loser" not in html
    assert "Field:</strong> Summary" in html


def test_a_count_that_would_take_too_long_is_given_up_and_the_session_goes_on(app, officer):
    from server.console.paging import time_boxed

    push_record(officer)
    slow = sa.select(sa.func.count()).select_from(
        sa.text(
            "(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50000000)"
            " SELECT x FROM c) AS numbers"
        )
    )
    with app.test_request_context():
        assert time_boxed(slow, 50) is None
        assert time_boxed(sa.select(sa.func.count()).select_from(Record), 5000) == 1
        db.session.rollback()


def test_the_list_says_many_when_counting_is_given_up(app, console, officer, monkeypatch):
    from server.console import records

    push_record(officer)
    monkeypatch.setattr(records, "count_matches", lambda *a, **k: (None, True))
    html = console("supervisor").text("/console/records?review=pending")
    assert "Many records match (too many to count quickly" in html
    assert "console/records/approve" not in html


def test_history_names_a_refused_field_in_words(app, console, officer):
    record_id = push_record(officer)
    result = edit_record(officer, record_id, 1, occurred_at="not a time")
    assert result["status"] == "rejected" and "occurred_at" in result["errors"]
    html = console("supervisor").text(f"/console/records/{record_id}")
    history = html[html.index("<h2>History</h2>") :]
    assert "Rejected: When it happened:" in history and "occurred_at" not in history
