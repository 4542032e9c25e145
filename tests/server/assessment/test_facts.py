"""assessment_fact follows the records: creates, edits, deletes, reviews, a restore, and the
bulk first build gives the same rows as catching up batch by batch."""

from __future__ import annotations

import sys
from pathlib import Path

import sqlalchemy as sa

from server.assessment import facts
from server.db import db
from server.db.models import AssessmentFact, AssessmentState, Record

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/, for bench.seed
from bench.seed import seed  # noqa: E402


def fact(record_id: str) -> AssessmentFact:
    return db.session.scalar(sa.select(AssessmentFact).where(AssessmentFact.record_id == record_id))


def test_facts_follow_every_write(force):
    pc = force.officer("NPT-A")
    meeting, alert = force.add_many(
        pc,
        [
            (
                "2025-07-10 18:00",
                "community_meeting",
                {"publicised_at": "2025-07-03 17:59:59.6", "groups": ["young_people", "rural"]},
            ),
            ("2025-07-11 10:00", "community_alert", {}),
        ],
    )
    assert facts.refresh() == 2 and facts.refresh() == 0
    made = fact(meeting)
    assert made.std_mask == facts.mask("standard", ["MEET", "F2F"])
    assert made.group_mask == facts.mask("group", ["rural", "young_people"])
    assert made.notice_seconds == 7 * 86400  # 6 days 23:59:59.6 rounds to 7 days
    assert fact(alert).group_mask == 0

    _, device = force.devices[pc]
    rev = db.session.get(Record, meeting).rev
    force._push(
        pc,
        [
            {
                "id": meeting,
                "op": "upsert",
                "hlc": force._stamp(device),
                "base_rev": rev,
                "data": {"occurred_at": "2025-08-01T09:00:00+00:00", "groups": ["older_people"]},
            }
        ],
    )
    force.delete(pc, alert)
    force.review(meeting, "returned")
    assert facts.refresh() == 2
    moved = fact(meeting)
    assert str(moved.occurred_at) == "2025-08-01 09:00:00" and moved.review_state == "returned"
    assert moved.group_mask == facts.mask("group", ["older_people"])
    assert fact(alert).deleted is True
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AssessmentFact)) == 2


def test_a_restored_database_rebuilds(force):
    pc = force.officer("NPT-A")
    force.add(pc, "2025-07-11 10:00", "community_alert")
    facts.refresh()
    db.session.execute(sa.update(AssessmentState).values(seq=10_000))  # ahead of every record
    db.session.commit()
    assert facts.refresh() == 1
    assert db.session.scalar(sa.select(AssessmentState.seq)) == db.session.scalar(
        sa.select(sa.func.max(Record.seq))
    )


def snapshot() -> list[tuple]:
    return [
        tuple(row)
        for row in db.session.execute(
            sa.select(*AssessmentFact.__table__.columns).order_by(AssessmentFact.record_id)
        )
    ]


def test_bulk_build_equals_catching_up(app, monkeypatch):
    from datetime import datetime

    with app.app_context():
        seed(db.engine, records=3500, teams=4, seed=5, years=0.5, end=datetime(2025, 12, 1))
        monkeypatch.setattr(facts, "BULK_FROM", 100)
        assert facts.refresh() == 3500
        bulk = snapshot()
        db.session.execute(sa.delete(AssessmentFact))
        db.session.execute(sa.update(AssessmentState).values(seq=0))
        db.session.commit()
        monkeypatch.setattr(facts, "BULK_FROM", 10**9)
        monkeypatch.setattr(facts, "BATCH", 1000)  # four batches
        assert facts.refresh() == 3500
        assert snapshot() == bulk
