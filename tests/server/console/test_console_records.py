"""The logs page: newest first, keyset pages, every filter alone and combined, search, escaping."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from console_helpers import (
    OTHER,
    TEAM,
    edit_record,
    make_conflict,
    push_record,
    record_links,
    user_id,
)
from helpers import DeviceClient, create_change

from server.console.paging import PAGE_SIZE, decode_cursor, encode_cursor
from server.db import db


def _when(days_ago: float) -> str:
    return (datetime.now(timezone.utc) - timedelta(days=days_ago)).isoformat()


def push_many(device: DeviceClient, count: int, **fields) -> list[str]:
    """`count` records an hour apart (newest first in the returned list)."""
    changes = [
        create_change(device, occurred_at=_when(n / 24 + 0.01), summary=f"Record {n}", **fields)
        for n in range(count)
    ]
    results = device.push(changes).get_json()["results"]
    assert {r["status"] for r in results} == {"applied"}
    return [c["id"] for c in changes]


def test_newest_first_and_keyset_pages_cover_everything_once(app, console, officer):
    ids = push_many(officer, PAGE_SIZE * 2 + 5)
    person = console("supervisor")
    seen, url, pages = [], "/console/records", 0
    while url:
        html = person.text(url)
        assert "OFFSET" not in html
        seen.extend(record_links(html))
        pages += 1
        marker = 'rel="next"'
        url = None
        if marker in html:
            href = html[: html.index(marker)].rsplit('href="', 1)[1].split('"', 1)[0]
            url = href.replace("&amp;", "&")
    assert pages == 3
    assert seen == ids  # newest first, nothing twice, nothing missed


def test_newer_link_goes_back_a_page(app, console, officer):
    ids = push_many(officer, PAGE_SIZE + 10)
    person = console("supervisor")
    first = person.text("/console/records")
    older = first.split('" rel="next"')[0].rsplit('href="', 1)[1].replace("&amp;", "&")
    second = person.text(older)
    assert record_links(second) == ids[PAGE_SIZE:]
    newer = second.split('" rel="prev"')[0].rsplit('href="', 1)[1].replace("&amp;", "&")
    assert record_links(person.text(newer)) == ids[:PAGE_SIZE]


def test_cursor_round_trip_and_bad_cursor_shows_first_page(app, console, officer):
    moment = datetime(2026, 3, 1, 12, 30, 5, 120000)
    assert decode_cursor(encode_cursor(moment, "abc")) == (moment, "abc")
    ids = push_many(officer, 3)
    html = console("supervisor").text("/console/records?after=garbage")
    assert "That page link is not valid" in html
    assert record_links(html) == ids


def test_supervisor_sees_only_own_teams(app, console, officer, other_officer):
    mine = push_record(officer, summary="Our team's record")
    theirs = push_record(other_officer, summary="Another team's record")
    html = console("supervisor", TEAM).text("/console/records")
    assert mine in html and theirs not in html
    admin_html = console("admin", None).text("/console/records")
    assert mine in admin_html and theirs in admin_html
    # naming another team in the URL shows nothing of it
    html = console("supervisor", TEAM).text(f"/console/records?team={OTHER}")
    assert theirs not in html and "No team NPT-TWO among the teams you supervise" in html


def test_supervisor_of_two_teams_sees_both(app, make_user, officer, other_officer):
    from console_helpers import Console

    from server.db.models import Team, User

    name = make_user("supervisor", TEAM)
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == name))
        user.supervised.append(db.session.scalar(sa.select(Team).where(Team.code == OTHER)))
        db.session.commit()
    a, b = push_record(officer), push_record(other_officer)
    html = Console(app, name).text("/console/records")
    assert a in html and b in html


@pytest.fixture
def varied(app, client, make_user):
    """Records that differ in one way each, all in NPT-ONE, two officers."""
    pc1 = DeviceClient(client, make_user("officer", TEAM, username="pc.one"), "Phone 1")
    pc2 = DeviceClient(client, make_user("officer", TEAM, username="pc.three"), "Phone 2")
    ids = {
        "plain": push_record(pc1, summary="Foot patrol on the seafront", occurred_at=_when(1)),
        "old": push_record(pc1, summary="Foot patrol long ago", occurred_at=_when(40)),
        "school": push_record(
            pc1,
            kind="school_visit",
            standards=["F2F"],
            groups=[],
            summary="Assembly on online safety",
            occurred_at=_when(2),
        ),
        "kcl": push_record(
            pc2,
            kind="key_contact",
            standards=["KCL"],
            groups=["faith_groups"],
            contact_role="Imam",
            contact_org="Central Mosque",
            summary="Catch-up with the imam",
            occurred_at=_when(3),
            follow_up="Arrange a surgery at the mosque",
        ),
        "shoplifting": push_record(
            pc2, summary="Shop staff worried about shoplifting", occurred_at=_when(4)
        ),
    }
    deleted = push_record(pc1, summary="Logged twice by mistake", occurred_at=_when(5))
    result = pc1.push(
        [{"id": deleted, "op": "delete", "hlc": pc1.stamp(), "base_rev": 1, "data": {}}]
    ).get_json()["results"][0]
    assert result["status"] == "applied"
    ids["deleted"] = deleted
    conflicted, _ = make_conflict(
        app,
        pc1,
        DeviceClient(client, "pc.one", "Phone 1b"),
        summary="Conflicted record",
        occurred_at=_when(6),
    )
    ids["conflicted"] = conflicted
    return ids, {"pc.one": user_id(app, "pc.one"), "pc.three": user_id(app, "pc.three")}


def _listed(person, query: str, ids: dict) -> set[str]:
    html = person.text("/console/records?" + query)
    found = set(record_links(html))
    return {name for name, record_id in ids.items() if record_id in found}


FILTER_CASES = [
    ("", {"plain", "old", "school", "kcl", "shoplifting", "conflicted"}),
    ("kind=school_visit", {"school"}),
    ("kind=key_contact", {"kcl"}),
    ("standard=KCL", {"kcl"}),
    ("group=faith_groups", {"kcl"}),
    ("q=shoplifting", {"shoplifting"}),
    ("q=SHOP", {"shoplifting"}),  # prefix, any case
    ("q=mosque", {"kcl"}),  # found in the follow-up
    ("q=foot+patrol", {"plain", "old"}),  # every word
    ("q=foot+assembly", set()),
    ("q=%22foot%22+OR+assembly", set()),  # FTS operators are only words
    ("q=foot%3A+-patrol", {"plain", "old"}),  # no column filters, no NOT
    ("conflict=yes", {"conflicted"}),
    ("review=pending", {"plain", "old", "school", "kcl", "shoplifting", "conflicted"}),
    ("review=approved", set()),
    ("show=deleted", {"deleted"}),
    ("show=all", {"plain", "old", "school", "kcl", "shoplifting", "conflicted", "deleted"}),
    ("q=patrol&show=all", {"plain", "old"}),
    ("kind=face_to_face&q=patrol", {"plain", "old"}),
    ("standard=F2F&kind=school_visit", {"school"}),
    ("standard=F2F&q=imam", set()),
]


@pytest.mark.parametrize("query, expected", FILTER_CASES)
def test_each_filter_and_combination(app, console, varied, query, expected):
    ids, _ = varied
    assert _listed(console("supervisor"), query, ids) == expected


def test_officer_and_date_filters(app, console, varied):
    ids, officers = varied
    person = console("supervisor")
    assert _listed(person, f"officer={officers['pc.three']}", ids) == {"kcl", "shoplifting"}
    today = datetime.now(timezone.utc).date()
    recent = f"date_from={(today - timedelta(days=10)).isoformat()}"
    assert "old" not in _listed(person, recent, ids)
    only_old = (
        f"date_from={(today - timedelta(days=41)).isoformat()}"
        f"&date_to={(today - timedelta(days=39)).isoformat()}"
    )
    assert _listed(person, only_old, ids) == {"old"}
    combined = f"officer={officers['pc.one']}&{recent}&kind=face_to_face"
    assert _listed(person, combined, ids) == {"plain", "conflicted"}


def test_team_filter(app, console, varied, other_officer):
    ids, _ = varied
    theirs = push_record(other_officer, summary="Bravo record")
    person = console("admin", None)
    html = person.text(f"/console/records?team={OTHER}")
    assert record_links(html) == [theirs]
    assert set(record_links(person.text(f"/console/records?team={TEAM}"))) == {
        ids[n] for n in ("plain", "old", "school", "kcl", "shoplifting", "conflicted")
    }


def test_returned_and_approved_filters_follow_reviews(app, console, varied):
    ids, _ = varied
    person = console("supervisor")
    person.post(f"/console/records/{ids['plain']}/review", {"state": "approved"})
    person.post(f"/console/records/{ids['kcl']}/review", {"state": "returned", "comment": "More"})
    assert _listed(person, "review=approved", ids) == {"plain"}
    assert _listed(person, "review=returned", ids) == {"kcl"}


def test_filters_stay_in_the_url_of_pages_and_export(app, console, officer):
    push_many(officer, PAGE_SIZE + 1)
    html = console("supervisor").text("/console/records?kind=face_to_face&q=record")
    assert 'href="/console/records/export.csv?q=record&amp;kind=face_to_face"' in html
    assert (
        "after=" in html and "q=record&amp;kind=face_to_face" in html.split('rel="next"')[0][-300:]
    )
    assert 'value="record"' in html  # the search box keeps its text


@pytest.mark.parametrize(
    "query, message",
    [
        ("kind=nonsense", "Unknown kind nonsense."),
        ("standard=NOPE", "Unknown standard NOPE."),
        ("group=nobody", "Unknown group nobody."),
        ("review=maybe", "Unknown review state maybe."),
        ("date_from=yesterday", "yesterday is not a date"),
        ("officer=abc", "Choose an officer from the list."),
        (
            "date_from=2026-05-02&date_to=2026-05-01",
            "The &#39;from&#39; date is after the &#39;to&#39; date",
        ),
    ],
)
def test_bad_filters_are_explained_not_crashing(app, console, officer, query, message):
    push_record(officer)
    html = console("supervisor").text("/console/records?" + query)
    assert message in html


def test_search_field_is_labelled_search(app, console):
    html = console("supervisor").text("/console/records")
    assert '<label for="f-q">Search</label>' in html and 'id="f-q" name="q"' in html


def test_user_text_is_escaped_everywhere_on_the_list(app, console, officer):
    push_record(
        officer,
        summary="<script>alert('x')</script> & <b>bold</b>",
        place="<img src=x onerror=alert(1)>",
    )
    html = console("supervisor").text("/console/records")
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>bold" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html


def test_an_edit_updates_the_search_index(app, console, officer):
    record_id = push_record(officer, summary="Talked about parking")
    person = console("supervisor")
    assert record_links(person.text("/console/records?q=parking")) == [record_id]
    assert edit_record(officer, record_id, 1, summary="Talked about litter")["status"] == "applied"
    assert record_links(person.text("/console/records?q=parking")) == []
    assert record_links(person.text("/console/records?q=litter")) == [record_id]


def test_records_with_equal_times_page_by_id(app, console, officer):
    same = _when(1)
    changes = [create_change(officer, occurred_at=same) for _ in range(PAGE_SIZE + 3)]
    officer.push(changes)
    person = console("supervisor")
    first = person.text("/console/records")
    older = first.split('" rel="next"')[0].rsplit('href="', 1)[1].replace("&amp;", "&")
    both = record_links(first) + record_links(person.text(older))
    assert both == sorted((c["id"] for c in changes), reverse=True)


def test_list_does_not_load_every_record(app, console, officer):
    """The page asks the database for one page (LIMIT) whatever the number of records."""
    push_many(officer, PAGE_SIZE + 20)
    statements: list[tuple[str, tuple]] = []

    def capture(conn, cursor, statement, parameters, *args):
        statements.append((statement, tuple(parameters)))

    person = console("supervisor")
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", capture)
        try:
            person.text("/console/records?kind=face_to_face")
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", capture)
    listing = [(s, p) for s, p in statements if "FROM record JOIN team" in s]
    assert listing
    for statement, parameters in listing:
        assert "LIMIT" in statement
        # SQLite's dialect always writes OFFSET; the console never skips rows with it.
        if "OFFSET" in statement:
            assert parameters[-1] == 0 and parameters[-2] == PAGE_SIZE + 1
