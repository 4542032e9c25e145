"""Retention by hand-worked cases: text removed either side of the cut-off (local dates, BST and
GMT), every assessment figure of past periods unchanged, records deleted under the second rule.

RETENTION_TEXT_YEARS = 6. The cut-off is local midnight (Europe/London) of the date six years
before today's local date, so:

- now 2025-07-01 10:00 UTC (11:00 BST): cut-off 2019-07-01 00:00 BST = 2019-06-30 23:00 UTC.
  22:59 UTC on 30 June 2019 (23:59 BST, 30 June) goes; 23:00 and 23:30 UTC (1 July local) stay.
- now 2025-10-27 09:00 UTC (GMT: BST ended 26 Oct 2025): cut-off 2019-10-27 00:00 local, which
  was still BST (it ended 27 Oct 2019 at 02:00) = 2019-10-26 23:00 UTC. 22:30 UTC goes, 23:30
  UTC stays (a cut-off taken in UTC, 2019-10-27 00:00 UTC, would have taken it).
- now 2025-12-01 10:00 UTC (GMT): cut-off 2019-12-01 00:00 GMT = 00:00 UTC.
"""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from server.assessment import serialize
from server.assessment.evidence import evidence
from server.assessment.grid import assess_with_previous, resolve_period, scope_for, visible_teams
from server.db import db
from server.db.models import AccessLog, AssessmentFact, Change, Record
from server.records import retention
from server.records.redaction import MARKERS

REMOVED = MARKERS["retention"]
PERIODS = ["2019-Q2", "2019-Q3", "2019-06", "2019-07", "2019-W27", "2019-W26"]


def _figures(now: datetime) -> dict:
    teams = visible_teams(None)
    found = {}
    for label in PERIODS:
        period = resolve_period(label, now)
        result = assess_with_previous(period, teams, now)
        found[label] = serialize.assessment_json(result)
        scope = scope_for(period, teams, now)
        for measure in (m for s in result.catalogue.standards for m in s["measures"]):
            ev = evidence(scope, measure, teams[0].id, limit=500)
            found[f"{label} {measure['label']}"] = (
                ev.total,
                [(i.record_id, i.counts, i.people_count) for i in ev.items],
                ev.breakdown,
            )
    db.session.rollback()
    return found


def _text(record_id: str) -> str:
    db.session.expire_all()
    return db.session.get(Record, record_id).summary


@pytest.fixture
def quarter(force):
    """Records of one team across 2019 Q2 and Q3, with meetings, contacts and groups."""
    pc = force.officer("NPT-A", "pc.a")
    pc2 = force.officer("NPT-A", "pc.b")
    meeting = {"people_count": 12, "groups": ["residents"], "place": "Village hall"}
    ids = {
        "june15": force.add(
            pc,
            "2019-06-15 10:00",
            "community_meeting",
            **meeting,
            publicised_at="2019-06-01 09:00",
            summary="Met Mrs Smith",
        ),
        "last_june": force.add(
            pc,
            "2019-06-30 22:59",
            "face_to_face",
            people_count=2,
            summary="Spoke to 07700 900123",
            follow_up="Call her",
            location={"lat": 50.6, "lon": -2.4, "accuracy_m": 5},
        ),
        "first_july": force.add(
            pc2,
            "2019-06-30 23:00",
            "key_contact",
            contact_role="Warden",
            contact_org="Parish",
            summary="Warden chat",
        ),
        "july_0030": force.add(
            pc2, "2019-06-30 23:30", "face_to_face", people_count=4, summary="Kids on bikes"
        ),
        "august": force.add(
            pc, "2019-08-01 12:00", "community_meeting", **meeting, summary="August meeting"
        ),
        "key_may": force.add(
            pc,
            "2019-05-02 12:00",
            "key_contact",
            contact_role="Warden",
            contact_org="Parish",
            summary="First warden chat",
        ),
    }
    force.review(ids["august"], "returned")
    return ids


def test_text_goes_before_the_cut_off_and_every_figure_stays(app, force, quarter):
    now = datetime(2025, 7, 1, 10, 0)
    before = _figures(now)
    dry = retention.run(dry_run=True, now_utc=now)
    assert dry[0].cutoff_utc == datetime(2019, 6, 30, 23, 0)
    assert set(dry[0].ids) == {quarter["june15"], quarter["last_june"], quarter["key_may"]}
    assert _text(quarter["last_june"]) == "Spoke to 07700 900123"  # a dry run changes nothing

    text, records = retention.run(now_utc=now)
    assert set(text.ids) == set(dry[0].ids) and records.cutoff_utc is None
    for name in ("june15", "last_june", "key_may"):
        assert _text(quarter[name]) == REMOVED
    for name in ("first_july", "july_0030", "august"):
        assert _text(quarter[name]) != REMOVED
    gone = db.session.get(Record, quarter["last_june"])
    assert gone.follow_up == REMOVED and gone.place == "" and gone.data["location"] is None
    assert gone.people_count == 2 and gone.kind == "face_to_face"
    assert gone.redaction["how"] == "retention"
    assert gone.redaction["why"] == "RETENTION_TEXT_YEARS=6"
    # The change log keeps who and when, not the text.
    changes = db.session.scalars(sa.select(Change).where(Change.record_id == gone.id)).all()
    assert {c.user_id for c in changes if c.op == "upsert"} == {gone.officer_id}
    assert "07700" not in str([c.data for c in changes])
    assert _figures(now) == before
    # The evidence shows the marker where the summary was.
    teams = visible_teams(None)
    june = scope_for(resolve_period("2019-06", now), teams, now)
    f2f = next(m for s in june.catalogue.standards for m in s["measures"] if s["code"] == "F2F")
    shown = {i.record_id: i.summary for i in evidence(june, f2f, teams[0].id, limit=50).items}
    assert shown[quarter["last_june"]] == REMOVED
    (entry,) = db.session.scalars(
        sa.select(AccessLog).where(AccessLog.action == "retention_purge")
    ).all()
    assert entry.detail["rule"] == "RETENTION_TEXT_YEARS=6" and entry.detail["count"] == 3
    assert entry.detail["cutoff_utc"] == "2019-06-30T23:00:00"
    # Running again removes nothing more and logs nothing.
    assert retention.run(now_utc=now)[0].ids == []
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(AccessLog.action == "retention_purge"))
        == 1
    )


def test_the_cut_off_follows_local_dates_across_bst_and_gmt(app, force):
    pc = force.officer("NPT-A", "pc.edge")
    ids = {
        when: force.add(pc, when, summary=f"at {when}")
        for when in (
            "2019-10-26 22:30",
            "2019-10-26 23:30",
            "2019-11-30 23:59",
            "2019-12-01 00:00",
        )
    }
    autumn = retention.run(now_utc=datetime(2025, 10, 27, 9, 0))[0]
    assert autumn.cutoff_utc == datetime(2019, 10, 26, 23, 0)
    assert autumn.ids == [ids["2019-10-26 22:30"]]
    winter = retention.run(now_utc=datetime(2025, 12, 1, 10, 0))[0]
    assert winter.cutoff_utc == datetime(2019, 12, 1, 0, 0)
    assert winter.ids == [ids["2019-10-26 23:30"], ids["2019-11-30 23:59"]]
    assert _text(ids["2019-12-01 00:00"]) == "at 2019-12-01 00:00"


def test_years_before_keeps_29_february_a_day_longer():
    assert retention.years_before(datetime(2024, 2, 29).date(), 6) == datetime(2018, 2, 28).date()
    assert retention.years_before(datetime(2026, 3, 1).date(), 6) == datetime(2020, 3, 1).date()


def test_the_record_rule_deletes_whole_records_and_the_rollups_follow(app, force, quarter):
    app.config["RETENTION_RECORD_YEARS"] = 6
    now = datetime(2025, 7, 1, 10, 0)
    before = _figures(now)
    text, records = retention.run(now_utc=now)
    assert set(records.ids) == {quarter["june15"], quarter["last_june"], quarter["key_may"]}
    assert text.ids == []  # nothing older is left to remove text from
    for name in ("june15", "last_june", "key_may"):
        assert db.session.get(Record, quarter[name]) is None
    left = db.session.scalars(sa.select(AssessmentFact.record_id)).all()
    assert set(left) == {quarter[n] for n in ("first_july", "july_0030", "august")}
    after = _figures(now)
    # June's figures lose the deleted records (by design of the rule): two face-to-face ones.
    f2f = "2019-06 Face-to-face contacts per officer"
    assert before[f2f][0] - after[f2f][0] == 2
    assert after["2019-06"] != before["2019-06"]
    (entry,) = db.session.scalars(
        sa.select(AccessLog).where(AccessLog.action == "retention_delete")
    ).all()
    assert entry.detail["count"] == 3 and entry.detail["rule"] == "RETENTION_RECORD_YEARS=6"


def test_the_command_says_what_it_would_do(app, force, quarter, runner):
    result = runner.invoke(args=["retention", "run", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "RETENTION_TEXT_YEARS=6: would remove the free text of" in result.output
    assert "records are kept without end" in result.output
