"""The priority loop's measure types, share_fed_back and share_reviewed_on_time, worked by hand.

Dorset's 2027 catalogue is moved back to take effect on 1 January 2025 (loop_force.py), so its
FEEDBACK (public feedback within 28 days; met 80%, partly 50%) and PRIORITY (reviewed by the
review date; same thresholds) judge 2025. Q3 2025 is BST: it runs from 23:00 UTC on 30 June to
23:00 UTC on 30 September, and a local day ends at 23:00 UTC.
"""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from loop_force import STANDARDS, LoopForce, close_app, loop_catalogues, make_app, open_app

from server.assessment.evidence import evidence
from server.assessment.grid import assess, resolve_period, scope_for, visible_teams
from server.assessment.serialize import assessment_json
from server.catalogues import catalogues
from server.db import db

NOW = datetime(2026, 1, 15, 12, 0)


@pytest.fixture
def loop(tmp_path, database_server):
    url = database_server or f"sqlite:///{tmp_path / 'loop.sqlite'}"
    app, ctx = open_app(url, loop_catalogues(tmp_path / "standards"), database_server)
    try:
        force = LoopForce()
        force.client = app.test_client()
        yield force
    finally:
        close_app(ctx, database_server)


def judge(label: str, now: datetime = NOW):
    return assess(resolve_period(label, now), visible_teams(None), now)


def figure(assessment, team: str, code: str):
    judged = assessment.team(team).by_code[code]
    head = judged.measures[0]
    return head.figure.numerator, head.figure.denominator, judged.rating


@pytest.fixture
def fed(loop):
    """Team A's priorities and their feedback; team B answers one of A's."""
    a, b = loop.officer("NPT-A", "pc.alpha"), loop.officer("NPT-B", "pc.bravo")
    p = {}
    # Set 1 Jul (11:00 BST): the deadline is 29 Jul, which ends at 23:00 UTC. Answered at
    # 23:30 BST on 29 Jul: in time.
    p[1] = loop.priority(a, "2025-07-01 10:00", "Speeding on Mill Lane")
    loop.feedback(a, "2025-07-29 22:30", p[1])
    # Set 2 Jul: deadline 30 Jul. Answered at 00:00 BST on 31 Jul: a day late.
    p[2] = loop.priority(a, "2025-07-02 10:00")
    loop.feedback(a, "2025-07-30 23:00", p[2])
    # Set 20 Sep, answered 5 Oct: the deadline (18 Oct) is after Q3, so Q3 does not judge it;
    # Q4 does, and it was in time.
    p[3] = loop.priority(a, "2025-09-20 10:00")
    loop.feedback(a, "2025-10-05 10:00", p[3])
    # Answered in time but not in public.
    p[4] = loop.priority(a, "2025-08-01 10:00")
    loop.feedback(a, "2025-08-05 10:00", p[4], public=False)
    # Answered in public, but a supervisor returned the feedback (Dorset does not count it).
    p[5] = loop.priority(a, "2025-08-02 10:00")
    loop.review(loop.feedback(a, "2025-08-10 10:00", p[5]), "returned")
    # Only team B "answered" it: a link to another team's priority is no link.
    p[6] = loop.priority(a, "2025-08-03 10:00")
    loop.feedback(b, "2025-08-06 10:00", p[6])
    # Ended before Q3 began: not open in Q3.
    p[7] = loop.priority(a, "2025-06-01 10:00", priority_status="resolved", closed_on="2025-06-20")
    # A deleted priority never counts, answered or not.
    p[8] = loop.priority(a, "2025-08-03 11:00")
    loop.feedback(a, "2025-08-04 10:00", p[8])
    loop.delete(a, p[8])
    # Answered in public, but the feedback was deleted.
    p[9] = loop.priority(a, "2025-08-04 10:00")
    loop.delete(a, loop.feedback(a, "2025-08-06 10:00", p[9]))
    # Set in Q2 and answered then; still open in Q3, where it counts as fed back.
    p[10] = loop.priority(a, "2025-06-15 10:00")
    loop.feedback(a, "2025-06-20 10:00", p[10])
    return p


def test_share_fed_back_in_a_quarter(fed):
    # Q3: due are 1, 2, 4, 5, 6, 9, 10 (3 is not due until 18 Oct, 7 ended, 8 deleted);
    # fed back in time in public: 1 and 10. 2 of 7 = 29%: not met (partly met from 50%).
    q3 = judge("2025-Q3")
    assert figure(q3, "NPT-A", "FEEDBACK") == (2, 7, "not_met")
    assert q3.team("NPT-A").by_code["FEEDBACK"].headline.text == "29% (2 of 7)"
    # Team B has no priorities: no figure, not met, as other shares do with nothing to share.
    assert figure(q3, "NPT-B", "FEEDBACK") == (0, 0, "not_met")
    assert q3.team("NPT-B").by_code["FEEDBACK"].headline.text == "no priorities due"


def test_set_in_one_quarter_answered_in_the_next(fed):
    # Q4: every one of A's still open (none ended): 1, 2, 3, 4, 5, 6, 9, 10 are due, and
    # 1, 3 and 10 were answered in time. 3 of 8.
    assert figure(judge("2025-Q4"), "NPT-A", "FEEDBACK") == (3, 8, "not_met")


def test_share_fed_back_at_the_edges_of_a_month_and_the_deadline_day(fed):
    # July (ends 23:00 UTC on 31 Jul): 1 (deadline day over at 23:00 UTC 29 Jul, answered
    # 22:30), 2 (over at 23:00 UTC 30 Jul, answered exactly then: late) and 10: 2 of 3.
    assert figure(judge("2025-07"), "NPT-A", "FEEDBACK") == (2, 3, "partly_met")


def test_a_running_period_judges_only_what_is_due_or_done(fed):
    # Judged at noon on 29 Jul: 1's deadline day is not over and its answer (22:30) has not
    # happened yet, so it is not judged; 2's deadline is 30 Jul; 10 was answered. 1 of 1.
    now = datetime(2025, 7, 29, 12, 0)
    assert figure(judge("2025-07", now), "NPT-A", "FEEDBACK") == (1, 1, "met")
    # At 23:00 UTC on 29 Jul, 1 is due and was answered half an hour before: 2 of 2.
    now = datetime(2025, 7, 29, 23, 0)
    assert figure(judge("2025-07", now), "NPT-A", "FEEDBACK") == (2, 2, "met")


@pytest.fixture
def reviews(loop):
    a, b = loop.officer("NPT-A", "pc.alpha"), loop.officer("NPT-B", "pc.bravo")
    r = {}
    # Review by 15 Aug; reviewed at 23:30 BST on 15 Aug: on time.
    r[1] = loop.priority(a, "2025-07-01 10:00", review_by="2025-08-15")
    loop.review_of(a, "2025-08-15 22:30", r[1])
    # Reviewed at 00:30 BST on 16 Aug: late.
    r[2] = loop.priority(a, "2025-07-01 11:00", review_by="2025-08-15")
    loop.review_of(a, "2025-08-15 23:30", r[2])
    # Review date in Q4; reviewed early, in Q3.
    r[3] = loop.priority(a, "2025-07-02 10:00", review_by="2025-10-10")
    loop.review_of(a, "2025-09-25 10:00", r[3])
    # Ended before its review date: that counts as reviewed.
    r[4] = loop.priority(
        a,
        "2025-07-03 10:00",
        review_by="2025-09-01",
        priority_status="closed",
        closed_on="2025-08-20",
        closed_reason="The council closed the lane",
    )
    # Its review was deleted.
    r[5] = loop.priority(a, "2025-07-04 10:00", review_by="2025-09-10")
    loop.delete(a, loop.review_of(a, "2025-09-05 10:00", r[5]))
    # An action linked to it, but not a review.
    r[6] = loop.priority(a, "2025-07-05 10:00", review_by="2025-09-10")
    loop.add(a, "2025-09-05 10:00", "face_to_face", priority_id=r[6])
    # Team B's review links to it: no link.
    r[7] = loop.priority(a, "2025-07-06 10:00", review_by="2025-09-12")
    loop.review_of(b, "2025-09-05 10:00", r[7])
    # Review date in Q2.
    r[8] = loop.priority(a, "2025-06-01 10:00", review_by="2025-06-30")
    # No review date: PRIORITY does not look at it.
    r[9] = loop.priority(a, "2025-07-07 10:00")
    return r


def test_share_reviewed_on_time(reviews):
    # Q3: review dates in Q3 are 1, 2, 4, 5, 6, 7; on time: 1 and 4 (ended). 2 of 6.
    assert figure(judge("2025-Q3"), "NPT-A", "PRIORITY") == (2, 6, "not_met")
    # Q4: only 3, reviewed in Q3, before its date: 1 of 1, met.
    assert figure(judge("2025-Q4"), "NPT-A", "PRIORITY") == (1, 1, "met")
    assert figure(judge("2025-Q3"), "NPT-B", "PRIORITY") == (0, 0, "not_met")


def test_reviews_in_a_running_quarter(reviews):
    # 5 Sep 12:00: due are 1 and 2 (15 Aug) and 4 (1 Sep, ended 20 Aug); 5, 6, 7 are not due
    # and not reviewed (5's review was deleted). 2 of 3.
    now = datetime(2025, 9, 5, 12, 0)
    assert figure(judge("2025-Q3", now), "NPT-A", "PRIORITY") == (2, 3, "partly_met")


def test_evidence_lists_each_priority_with_its_concerns_actions_and_feedback(loop):
    a = loop.officer("NPT-A", "pc.alpha")
    raised = loop.add(
        a,
        "2025-06-28 10:00",
        "face_to_face",
        concerns=[{"category": "speeding", "phrase": "cars racing past the school"}],
    )
    p = loop.priority(a, "2025-07-01 10:00", "Speeding on Mill Lane", concern_record_ids=[raised])
    action = loop.add(a, "2025-07-10 10:00", "partner_meeting", priority_id=p)
    deleted = loop.add(a, "2025-07-11 10:00", "face_to_face", priority_id=p)
    loop.delete(a, deleted)
    loop.feedback(a, "2025-07-05 10:00", p, public=False)
    loop.feedback(a, "2025-08-30 10:00", p)  # public, but late
    period = resolve_period("2025-Q3", NOW)
    teams = visible_teams(None)
    scope = scope_for(period, teams, NOW)
    measure = scope.catalogue.standard("FEEDBACK")["measures"][0]
    found = evidence(scope, measure, teams[0].id)
    assert found.total == 1 and found.lines == [
        "Priorities open in Q3 2025 (Jul-Sep): 1 due, 0 with public feedback within 28 days "
        "of being set."
    ]
    item = found.items[0]
    assert (item.record_id, item.summary, item.counts) == (p, "Speeding on Mill Lane", False)
    assert item.note == "No public feedback by Tue 29 Jul 2025"
    detail = item.priority
    assert [(c.category, c.phrase) for c in detail.concerns] == [
        ("speeding", "cars racing past the school")
    ]
    assert [(x.record_id, x.kind) for x in detail.actions] == [(action, "partner_meeting")]
    assert [(f.public, f.in_time) for f in detail.feedback] == [(False, True), (True, False)]


def test_the_2019_version_still_judges_periods_before_2027_unchanged(tmp_path, database_server):
    """The same records judged with only the 2019 file (before 2027's was added) and with both:
    every figure of 2026's periods is the same; 2027's quarters take the loop measures."""
    only_2019 = tmp_path / "before"
    only_2019.mkdir()
    old = STANDARDS / "dorset-2019-04-01.json"
    (only_2019 / old.name).write_text(old.read_text(encoding="utf-8"), encoding="utf-8")
    url = database_server or f"sqlite:///{tmp_path / 'old.sqlite'}"
    now = datetime(2026, 11, 20, 12, 0)
    labels = ["2026-Q3", "2026-08", "2026-Q4", "2026"]

    def grids():
        teams = visible_teams(None)
        return {
            label: assessment_json(assess(resolve_period(label, now), teams, now))
            for label in labels
        }

    app, ctx = open_app(url, only_2019, database_server)
    try:
        force = LoopForce()
        a = force.officer("NPT-A", "pc.alpha")
        p = force.priority(a, "2026-07-01 10:00", review_by="2026-08-01")
        force.feedback(a, "2026-07-05 10:00", p)
        force.review_of(a, "2026-07-30 10:00", p)
        force.add_many(
            a,
            [
                ("2026-08-01 10:00", "feedback", {}),
                ("2026-09-01 10:00", "priority_review", {}),
                ("2026-10-01 10:00", "face_to_face", {"priority_id": p}),
            ],
        )
        before = grids()
        db.session.remove()
        with make_app(url, None).app_context():
            assert [v.version for v in catalogues().versions] == ["2019-04-01", "2027-01-01"]
            after = grids()
            later = datetime(2027, 4, 10, 12, 0)
            q1 = assess(resolve_period("2027-Q1", later), visible_teams(None), later)
            types = {s.code: s.measures[0].measure["type"] for s in q1.team("NPT-A").standards}
            db.session.remove()
            db.engine.dispose()
    finally:
        close_app(ctx, database_server)
    assert before == after
    assert (types["FEEDBACK"], types["PRIORITY"]) == ("share_fed_back", "share_reviewed_on_time")
    # August 2026's FEEDBACK still counts feedback records: 1 in August, met at 1 a month.
    august = before["2026-08"]["teams"][0]["standards"][6]
    assert (august["code"], august["measures"][0]["type"], august["rating"]) == (
        "FEEDBACK",
        "count",
        "met",
    )


def test_cell_api_and_page_show_the_loop_and_log_the_view(loop):
    from assessment_force import PASSWORD

    from server.db.models import AccessLog

    a = loop.officer("NPT-A", "pc.alpha")
    raised = loop.add(
        a,
        "2025-06-28 10:00",
        "face_to_face",
        concerns=[{"category": "parking", "phrase": "vans on the pavement"}],
    )
    p = loop.priority(
        a,
        "2025-07-01 10:00",
        "Parking on Hope Street",
        concern_record_ids=[raised],
        owner_id=loop.devices[a][0].id,
    )
    loop.add(a, "2025-07-03 10:00", "partner_meeting", priority_id=p)
    answer = loop.feedback(a, "2025-07-20 10:00", p)
    loop.user("supervisor", "NPT-A", "sgt.alpha")
    loop.user("panel", None, "panel.member")
    client = loop.client
    url = "/api/v1/assessment/teams/NPT-A/standards/FEEDBACK?period=2025-Q3"

    def sign_in(username):
        client.post("/console/sign-out")
        response = client.post(
            "/console/sign-in", data={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 302

    sign_in("sgt.alpha")
    body = client.get(url).get_json()
    record = body["evidence"][0]["records"][0]
    assert (record["id"], record["summary"], record["officer"]) == (
        p,
        "Parking on Hope Street",
        "PC.ALPHA",
    )
    assert record["counts"] is True
    assert record["note"] == "Public feedback on Sun 20 Jul 2025, 19 days after it was set"
    loop_json = record["priority"]
    assert loop_json["owner"] == "PC.ALPHA" and loop_json["deadline"] == "2025-07-29"
    assert loop_json["concerns"] == [
        {
            "record_id": raised,
            "category": "parking",
            "category_title": "Parking",
            "phrase": "vans on the pavement",
        }
    ]
    assert [(x["kind"], x["date"]) for x in loop_json["actions"]] == [
        ("partner_meeting", "2025-07-03")
    ]
    assert [(x["id"], x["public"], x["in_time"]) for x in loop_json["feedback"]] == [
        (answer, True, True)
    ]
    page = client.get("/console/assessment/teams/NPT-A/standards/FEEDBACK?period=2025-Q3")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "vans on the pavement" in html and "Partner meeting" in html and "in time" in html
    assert "owner PC.ALPHA" in html

    sign_in("panel.member")
    record = client.get(url).get_json()["evidence"][0]["records"][0]
    assert record["officer"] is None and record["priority"]["owner"] is None
    # Nothing is approved yet: the panel reads neither the title nor the concern's phrase.
    assert "Parking on Hope Street" not in str(record)
    assert "vans on the pavement" not in str(record)
    html = client.get("/console/assessment/teams/NPT-A/standards/FEEDBACK?period=2025-Q3").get_data(
        as_text=True
    )
    assert "vans on the pavement" not in html and "PC.ALPHA" not in html
    loop.review(raised, "approved")
    loop.review(p, "approved")
    record = client.get(url).get_json()["evidence"][0]["records"][0]
    assert record["summary"] == "Parking on Hope Street"
    assert record["priority"]["concerns"][0]["phrase"] == "vans on the pavement"
    logged = db.session.scalars(
        sa.select(AccessLog).where(AccessLog.action == "assessment.evidence")
    ).all()
    assert len(logged) == 5


def test_what_works_says_what_raised_priorities_and_how_fast_they_were_answered(loop):
    from assessment_force import PASSWORD

    a, b = loop.officer("NPT-A", "pc.alpha"), loop.officer("NPT-B", "pc.bravo")

    def concern(when, kind, category):
        return loop.add(a, when, kind, concerns=[{"category": category, "phrase": ""}])

    c1 = concern("2025-06-28 10:00", "face_to_face", "speeding")
    c2 = concern("2025-07-02 10:00", "beat_surgery", "parking")
    c3 = concern("2025-07-03 10:00", "community_meeting", "noise")
    theirs = loop.add(b, "2025-07-03 10:00", "face_to_face", concerns=[{"category": "drugs"}])
    p1 = loop.priority(a, "2025-07-05 10:00", concern_record_ids=[c1, c2])
    loop.add(a, "2025-07-08 10:00", "partner_meeting", priority_id=p1)
    loop.add(a, "2025-07-09 10:00", "face_to_face", priority_id=p1)
    loop.feedback(a, "2025-07-06 10:00", p1, public=False)  # not public: not the answer
    loop.feedback(a, "2025-07-15 10:00", p1)  # 10 days
    p2 = loop.priority(a, "2025-07-10 10:00", concern_record_ids=[c2])
    loop.add(a, "2025-07-12 10:00", "partner_meeting", priority_id=p2)
    loop.feedback(a, "2025-07-30 10:00", p2)  # 20 days
    loop.priority(a, "2025-08-01 10:00", concern_record_ids=[c3])  # no action, no feedback
    loop.priority(a, "2025-06-01 10:00", concern_record_ids=[c1])  # set in Q2: not counted
    p5 = loop.priority(a, "2025-08-05 10:00", concern_record_ids=[theirs])  # another team's
    loop.add(a, "2025-08-06 10:00", "face_to_face", priority_id=p5)
    loop.feedback(a, "2025-08-09 10:00", p5)  # 4 days
    loop.user("admin", None, "insp.admin")
    client = loop.client
    client.post("/console/sign-in", data={"username": "insp.admin", "password": PASSWORD})
    body = client.get("/api/v1/assessment/what-works?period=2025-Q3").get_json()
    team = next(t for t in body["teams"] if t["code"] == "NPT-A")
    assert team["concerns_raised_by"] == [
        {"kind": "beat_surgery", "kind_title": "Beat surgery", "records": 1, "priorities": 2},
        {
            "kind": "community_meeting",
            "kind_title": "Community meeting",
            "records": 1,
            "priorities": 1,
        },
        {
            "kind": "face_to_face",
            "kind_title": "Face-to-face contact",
            "records": 1,
            "priorities": 1,
        },
    ]
    answered = {r["kind"]: r for r in team["feedback_by_action"]}
    assert answered["partner_meeting"]["priorities"] == 2
    assert answered["partner_meeting"]["median_days_to_feedback"] == 15
    assert (
        answered["face_to_face"]["fed_back"],
        answered["face_to_face"]["median_days_to_feedback"],
    ) == (2, 7)
    assert answered[None] == {
        "kind": None,
        "kind_title": "No action recorded",
        "priorities": 1,
        "fed_back": 0,
        "median_days_to_feedback": None,
    }
    assert body["force"]["feedback_by_action"] == team["feedback_by_action"]
    page = client.get("/console/assessment/what-works?period=2025-Q3").get_data(as_text=True)
    assert "Where the concerns behind priorities were raised" in page
    assert "Median days to feedback" in page and "No action recorded" in page


def test_grid_team_page_pack_and_csv_show_the_loop_measures(loop, fed):
    import csv
    import io

    from assessment_force import PASSWORD

    loop.user("supervisor", "NPT-A", "sgt.alpha")
    client = loop.client
    client.post("/console/sign-in", data={"username": "sgt.alpha", "password": PASSWORD})
    grid = client.get("/console/assessment?period=2025-Q3").get_data(as_text=True)
    assert "29% (2 of 7)" in grid
    team = client.get("/console/assessment/teams/NPT-A?period=2025-Q3")
    assert team.status_code == 200
    assert "Priorities with public feedback within 28 days" in team.get_data(as_text=True)
    pack = client.get("/console/assessment/teams/NPT-A/pack?period=2025-Q3").get_data(as_text=True)
    assert "Speeding on Mill Lane" in pack and "Public feedback on Tue 29 Jul 2025" in pack
    body = client.get("/api/v1/assessment/teams/NPT-A/pack?period=2025-Q3").get_json()
    feedback = next(s for s in body["standards"] if s["code"] == "FEEDBACK")
    sample = feedback["samples"][0]["records"]
    assert len(sample) == 5 and all(r["priority"] is not None for r in sample)
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get("/console/assessment/grid.csv?period=2025-Q3").get_data(as_text=True)
            )
        )
    )
    a = next(r for r in rows if r["team"] == "NPT-A")
    assert (a["FEEDBACK_priorities_fed_back"], a["FEEDBACK_priorities_due"]) == ("2", "7")
    assert a["FEEDBACK_share_fed_back_fraction"] == "0.285714"
    assert (a["PRIORITY_share_reviewed_on_time_fraction"], a["PRIORITY_reviews_due"]) == ("", "0")


def test_the_sqlite_export_carries_the_loop_figures(fed, tmp_path):
    import sqlite3

    from server.assessment.sqlite_export import export_sqlite

    export_sqlite(tmp_path / "out.sqlite", since=datetime(2025, 7, 1).date(), now=NOW)
    with sqlite3.connect(tmp_path / "out.sqlite") as out:
        rows = out.execute(
            "SELECT numerator, denominator FROM assessment_measures WHERE period = '2025-Q3' "
            "AND team = 'NPT-A' AND type = 'share_fed_back'"
        ).fetchall()
    assert rows == [(2, 7)]
