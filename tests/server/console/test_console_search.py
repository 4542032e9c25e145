"""Full-text search: the index follows every write, query text is only ever words."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from console_helpers import edit_record, push_record

from server.console.query_plan import plan
from server.db import db
from server.db.models import Record
from server.db.search import fts_query, install_search, terms, text_match


def _found(app, query: str) -> set[str]:
    with app.app_context():
        clause = text_match(query)
        return set(db.session.scalars(sa.select(Record.id).where(clause)))


def test_terms_are_words_only():
    assert terms('Shop-lifting "NEAR" OR x:y -z*') == [
        "shop",
        "lifting",
        "near",
        "or",
        "x",
        "y",
        "z",
    ]
    assert terms("") == [] and terms("  !!  ") == []
    assert len(terms(" ".join(f"w{n}" for n in range(20)))) == 8
    assert fts_query('a "b') == '"a"* "b"*'


def test_no_words_means_no_text_condition(app):
    with app.app_context():
        assert text_match("   ") is None and text_match("?!") is None


def test_summary_and_follow_up_are_searched_by_prefix_and_stem(app, officer):
    a = push_record(officer, summary="Reassurance patrol after burglaries")
    b = push_record(officer, summary="Met residents", follow_up="Burglary leaflets next week")
    push_record(
        officer, summary="Nothing relevant", place="Burglary Street"
    )  # place is not searched
    assert _found(app, "burglary") == {a, b}
    assert _found(app, "burgl") == {a, b}
    assert _found(app, "REASSURANCE patrols") == {a}
    assert _found(app, "leaflets residents") == {b}


def test_index_follows_edits_and_deletes(app, officer):
    record_id = push_record(officer, summary="Graffiti on the bridge")
    assert _found(app, "graffiti") == {record_id}
    edit_record(officer, record_id, 1, summary="Fly-tipping on the bridge")
    assert _found(app, "graffiti") == set() and _found(app, "tipping") == {record_id}
    with app.app_context():
        db.session.execute(sa.delete(Record).where(Record.id == record_id))
        db.session.commit()
    assert _found(app, "tipping") == set()


def test_review_bumps_seq_and_the_index_keeps_up(app, console, officer):
    record_id = push_record(officer, summary="Cycle thefts at the station")
    console("supervisor").post(f"/console/records/{record_id}/review", {"state": "approved"})
    assert _found(app, "cycle thefts") == {record_id}


def test_install_is_idempotent(app, officer):
    record_id = push_record(officer, summary="Speed watch")
    with app.app_context():
        install_search()
        install_search()
    assert _found(app, "speed") == {record_id}


@pytest.mark.parametrize("query", ['"', "'", "*", "NEAR(", ")", "a OR", "AND", "^x", "x:y", "-"])
def test_odd_query_text_never_errors(app, officer, console, query):
    push_record(officer, summary="near and or not x y")
    response = console("supervisor").get("/console/records", query_string={"q": query})
    assert response.status_code == 200


def test_plan_drives_from_small_sets_and_walks_the_index_for_big_ones(app, officer, monkeypatch):
    from server.console import query_plan
    from server.console.query_plan import text_filter

    rare = push_record(officer, summary="A rare word: zeppelin, and a common one: patrol")
    common = [push_record(officer, summary=f"Foot patrol {n}") for n in range(4)]
    with app.app_context():
        small, big = text_filter("zeppelin"), text_filter("patrol")
        monkeypatch.setattr(query_plan, "DRIVE_LIMIT", 3)
        assert small.keys_upto(3) is not None and big.keys_upto(3) is None
        # the small set drives as a literal list of keys; the big one is tested per row
        clauses, driven = plan([big, small])
        assert driven and clauses[0] is big.probe
        assert "IN (__[POSTCOMPILE" in str(clauses[1])
        # with only big sets every clause is a probe
        assert plan([big]) == ([big.probe], False)

        # every form finds the same records
        def ids(clause):
            return set(db.session.scalars(sa.select(Record.id).where(clause)))

        assert ids(small.probe) == ids(plan([small])[0][0]) == {rare}
        assert ids(big.probe) == ids(big.key.in_(big.candidates)) == {rare, *common}
        assert ids(plan([text_filter("nothingmatches")])[0][0]) == set()


@pytest.mark.parametrize("cap", [2, 5, 1000])
def test_walk_first_pages_equal_the_planned_pages(app, officer, monkeypatch, cap):
    """Walking the newest records first (PostgreSQL's search path) gives exactly the pages the
    planned query gives, whether the walk finds a full page or falls back."""
    from datetime import datetime, timedelta, timezone

    from helpers import create_change
    from werkzeug.datastructures import MultiDict

    from server.console import paging
    from server.console.record_query import RecordFilter

    now = datetime.now(timezone.utc)
    changes = [
        create_change(
            officer,
            occurred_at=(now - timedelta(hours=n)).isoformat(),
            summary=("Speeding on the high road" if n % 3 == 0 else "Litter"),
        )
        for n in range(40)
    ]
    officer.push(changes)
    monkeypatch.setattr(paging, "WALK_CAP", cap)

    def pages(walk_first: bool) -> list[list[str]]:
        with app.test_request_context():
            conditions = RecordFilter.from_args(MultiDict({"q": "speeding"}), None).conditions(None)
            for set_filter in conditions.sets:
                set_filter.walk_first = walk_first
            found, after = [], None
            while True:
                page = paging.fetch_page(conditions, after=after, size=4)
                found.append([row.id for row in page.rows])
                if not page.older:
                    return found
                after = paging.decode_cursor(page.older)

    expected = [
        [c["id"] for c in changes if "Speeding" in c["data"]["summary"]][i : i + 4]
        for i in range(0, 14, 4)
    ]
    assert pages(True) == pages(False) == expected
