"""The monthly rollups (rollup.py) give exactly the figures the facts give, after the first build
and after edits caught up batch by batch, for every measure type the rollups answer."""

from __future__ import annotations

import dataclasses
import random
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from server.assessment import facts, measures, rollup
from server.assessment.grid import resolve_period, scope_for, visible_teams
from server.assessment.measures import compute
from server.db import db
from server.db.models import Record
from server.db.writers import allocate_seqs

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/, for bench.seed
from bench.seed import seed  # noqa: E402

END = datetime(2025, 12, 1)
NOW = datetime(2026, 1, 15, 12, 0)
MEETINGS = ["community_meeting", "beat_surgery", "priority_review"]
MEASURES = [
    {"type": "count", "standards": ["F2F"], "per": "officer"},
    {"type": "count", "kinds": ["face_to_face", "outreach"]},
    {"type": "count", "kinds": ["community_alert"], "standards": ["ALERT"]},
    {"type": "count"},
    {"type": "share_publicised", "kinds": MEETINGS, "min_days": 0},
    {"type": "share_publicised", "kinds": MEETINGS, "min_days": 7},
    {"type": "share_publicised", "kinds": MEETINGS, "min_days": 14},
    {"type": "mean_people", "kinds": MEETINGS},
    {"type": "mean_people", "standards": ["MEET"]},
    {"type": "distinct_groups"},
    {"type": "distinct_groups", "seldom_heard_only": True},
    {"type": "distinct_groups", "kinds": ["outreach"]},  # not in the rollup: facts
    {"type": "longest_gap_days", "kinds": ["social_media_post"]},
    {"type": "longest_gap_days", "kinds": ["web_page_update"]},
    {"type": "longest_gap_days", "kinds": ["priority_review"]},
    {"type": "longest_gap_days", "kinds": MEETINGS},  # several kinds: facts
    {"type": "days_since_last", "kinds": ["web_page_update"]},
    {"type": "days_since_last", "kinds": ["priority_review", "community_meeting"]},
    {"type": "days_since_last", "standards": ["ALERT"]},
    {"type": "share_renewed", "kinds": ["key_contact"], "within_days": 90, "lookback_days": 365},
    {"type": "share_renewed", "kinds": ["key_contact"], "within_days": 45, "lookback_days": 120},
    {"type": "share_renewed", "standards": ["KCL"], "within_days": 60, "lookback_days": 200},
    {"type": "share_renewed", "kinds": ["key_contact"], "within_days": 3, "lookback_days": 20},
]
# Closed months, quarters (one across the October clock change) and a year; a quarter still
# running (records after "now" exist) and a week, which the rollups do not cover.
PERIODS = [
    ("2025-03", NOW),
    ("2025-10", NOW),
    ("2025-Q1", NOW),
    ("2025-Q3", NOW),
    ("2025-Q4", NOW),
    ("2025", NOW),
    ("2025-Q4", datetime(2025, 11, 14, 15, 30)),
    ("2025-W27", NOW),
]


def agree(returned_count: bool) -> int:
    """Compare the rollups' figures with the facts' for every period; returns how many
    (period, measure) pairs a rollup answered."""
    teams = visible_teams(None)
    answered = 0
    for label, now in PERIODS:
        period = resolve_period(label, now)
        scope = scope_for(period, teams, now)
        catalogue = dataclasses.replace(
            scope.catalogue, raw={**scope.catalogue.raw, "returned_records_count": returned_count}
        )
        scope = dataclasses.replace(scope, catalogue=catalogue)
        assert scope.rollups == (period.kind != "week")
        reference = compute(dataclasses.replace(scope, rollups=False), MEASURES)
        assert compute(scope, MEASURES) == reference, label
        if scope.rollups:
            scanned = [(i, m) for i, m in enumerate(MEASURES) if m["type"] in measures.SCANNED]
            answered += len(scanned) * (measures._scan_rollup(scope, scanned) is not None)
            for measure in MEASURES:
                fast = {
                    "distinct_groups": measures._distinct_groups_rollup,
                    "share_renewed": measures._share_renewed_rollup,
                    "longest_gap_days": measures._gaps_rollup,
                }.get(measure["type"])
                answered += bool(fast and fast(scope, measure) is not None)
    return answered


def snapshot() -> dict:
    return {
        model.__tablename__: sorted(
            tuple(row) for row in db.session.execute(sa.select(*model.__table__.columns))
        )
        for model in rollup.TABLES
    }


def edit(rng: random.Random, count: int) -> None:
    """Random writes the way the sync path leaves them: new values and a new, higher seq."""
    ids = sorted(db.session.scalars(sa.select(Record.id)))
    teams = sorted(set(db.session.scalars(sa.select(Record.team_id))))
    seqs = allocate_seqs(db.session, count)  # as a push takes them
    for n, record_id in enumerate(rng.sample(ids, count)):
        record = db.session.get(Record, record_id)
        values = {"seq": seqs[n]}
        change = rng.choice(
            ["move", "kind", "delete", "return", "notice", "contact", "team", "people"]
        )
        if change == "move":
            values["occurred_at"] = record.occurred_at + timedelta(
                seconds=rng.randint(-60 * 86400, 60 * 86400)
            )
        elif change == "kind":
            values["kind"] = rng.choice(
                ["social_media_post", "key_contact", "web_page_update", *MEETINGS]
            )
        elif change == "delete":
            values["deleted"] = True
        elif change == "return":
            values["review_state"] = rng.choice(["returned", "approved"])
        elif change == "notice":  # a meeting publicised just short of, at, or after a threshold
            values["kind"] = rng.choice(MEETINGS)
            values["publicised_at"] = record.occurred_at - timedelta(
                seconds=rng.choice([-3600, 0, 7 * 86400, 7 * 86400 - 1, rng.randint(0, 20 * 86400)])
            )
        elif change == "contact":
            values["contact_role"] = rng.choice(["  Chair ", "CHAIR", "", "Warden"])
        elif change == "team":
            values["team_id"] = rng.choice(teams)
        else:
            values["people_count"] = rng.choice([None, 0, rng.randint(1, 40)])
        db.session.execute(sa.update(Record).where(Record.id == record_id).values(**values))
    db.session.commit()


@pytest.mark.parametrize("whole_up_to", [0, 99], ids=["deltas", "whole-months"])
def test_rollups_give_the_facts_figures(app, monkeypatch, whole_up_to):
    monkeypatch.setattr(rollup.Batch, "WHOLE_UP_TO", whole_up_to)  # both ways of following edits
    with app.app_context():
        seed(db.engine, records=5000, teams=4, seed=7, years=1.5, end=END)
        assert facts.refresh() == 5000
        assert rollup.built_for() == "Europe/London"
        for returned_count in (False, True):
            assert agree(returned_count) > 60

        # Edits caught up in batches rebuild just the months they touch...
        def no_full_rebuild(_tz):
            raise AssertionError("an incremental refresh rebuilt every month")

        monkeypatch.setattr(rollup, "rebuild_all", no_full_rebuild)
        monkeypatch.setattr(facts, "BATCH", 100)
        edit(random.Random(11), 400)
        assert facts.refresh() == 400
        for returned_count in (False, True):
            agree(returned_count)
        # ...and leave the same rows as building them all from scratch.
        kept = snapshot()
        monkeypatch.undo()
        rollup.rebuild_all(rollup.ZoneInfo("Europe/London"))
        db.session.commit()
        assert snapshot() == kept


def test_a_new_time_zone_rebuilds_the_rollups(app, monkeypatch):
    with app.app_context():
        seed(db.engine, records=300, teams=2, seed=2, years=0.3, end=END)
        facts.refresh()
        before = snapshot()
        db.session.execute(sa.update(rollup.RollupState).values(tz="UTC"))
        db.session.commit()
        assert facts.refresh() == 0 and rollup.built_for() == "Europe/London"
        assert snapshot() == before


@pytest.mark.parametrize("label", ["2025-07", "2025-Q3"])
def test_whole_month_periods_use_the_rollups(app, label):
    with app.app_context():
        seed(db.engine, records=300, teams=2, seed=2, years=0.3, end=END)
        assert scope_for(resolve_period(label, NOW), visible_teams(None), NOW).rollups
