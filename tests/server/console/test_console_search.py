"""Full-text search: the index follows every write, query text is only ever words."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from console_helpers import edit_record, push_record
from server.console.query_plan import DRIVE_LIMIT, plan
from server.extensions import db
from server.models import Record
from server.search import fts_query, install_search, terms, text_match


def _found(app, query: str) -> set[str]:
    with app.app_context():
        clause = text_match(query)
        return set(db.session.scalars(sa.select(Record.id).where(clause)))


def test_terms_are_words_only():
    assert terms('Shop-lifting "NEAR" OR x:y -z*') == ["shop", "lifting", "near", "or", "x", "y", "z"]
    assert terms("") == [] and terms("  !!  ") == []
    assert len(terms(" ".join(f"w{n}" for n in range(20)))) == 8
    assert fts_query('a "b') == '"a"* "b"*'


def test_no_words_means_no_text_condition(app):
    with app.app_context():
        assert text_match("   ") is None and text_match("?!") is None


def test_summary_and_follow_up_are_searched_by_prefix_and_stem(app, officer):
    a = push_record(officer, summary="Reassurance patrol after burglaries")
    b = push_record(officer, summary="Met residents", follow_up="Burglary leaflets next week")
    push_record(officer, summary="Nothing relevant", place="Burglary Street")  # place is not searched
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


def test_plan_drives_from_small_sets_and_walks_the_index_for_big_ones(app, officer):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("PostgreSQL plans with its own statistics")
    from server.console.query_plan import text_filter

    push_record(officer, summary="A rare word: zeppelin")
    with app.app_context():
        small = text_filter("zeppelin")
        clauses = plan([small])
        assert clauses[0].compare(small.driving())

        class Big:  # a set reported larger than the bound
            def __init__(self, inner):
                self.inner = inner
                self.probe = inner.probe

            def size_upto(self, bound):
                return DRIVE_LIMIT + 1

        clauses = plan([Big(small)])
        assert clauses[0] is small.probe
        # both plans find the same records
        for clause in (small.driving(), small.probe):
            assert len(db.session.scalars(sa.select(Record.id).where(clause)).all()) == 1
