"""Alerts for a whole force over the assessment bench's seeded database (bench_assessment.py
calls this after the grid, on the same database and beside the same floor).

Every rule of the newest catalogue runs: Dorset 2027 is moved back to take effect on 1 January
2026 (as the loop tests do), because records cannot be dated after today and the 2019 version,
in force at the seed's end, has no loop rules. The seed has no local priorities, planned
meetings or silent phones, so each team is given some through the real write path first (three
priorities with feedback and reviews due, two meetings coming up, one phone gone quiet), once:
a reused --sqlite file keeps them. Alerts are computed as of a week after the seed's last
record, in the month's last week, so month_short is live too.
"""

from __future__ import annotations

import json
import secrets
import tempfile
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

from server import create_app
from server.db import db
from server.db.models import Device, PlannedMeeting, Record, Team, User

STANDARDS = Path(__file__).resolve().parents[2] / "schema" / "standards"


def catalogue_folder(folder: Path) -> Path:
    old = STANDARDS / "dorset-2019-04-01.json"
    (folder / old.name).write_text(old.read_text(encoding="utf-8"), encoding="utf-8")
    raw = json.loads((STANDARDS / "dorset-2027-01-01.json").read_text(encoding="utf-8"))
    raw.update(version="2026-01-01-bench", effective_from="2026-01-01")
    (folder / "dorset-2026-01-01.json").write_text(json.dumps(raw), encoding="utf-8")
    return folder


def _change(device: Device, when: datetime, kind: str, counter: int, **fields) -> dict:
    millis = int(datetime.now(timezone.utc).timestamp() * 1000)
    return {
        "id": str(uuid.uuid4()),
        "op": "upsert",
        "hlc": f"{millis:015d}-{counter:05d}-{device.id}",
        "base_rev": None,
        "data": {
            "schema_version": 2,
            "occurred_at": when.replace(tzinfo=timezone.utc).isoformat(),
            "kind": kind,
            "standards": [],
            "summary": f"{kind.replace('_', ' ')} for the alerts bench",
            **fields,
        },
    }


def give_each_team_the_loop(end: datetime) -> int:
    """Priorities, meetings and a quiet phone per team, unless a reused file has them."""
    from server.sync.push import push

    if db.session.scalar(sa.select(sa.func.count()).where(Record.kind == "local_priority")):
        return 0
    made = 0
    for team in db.session.scalars(sa.select(Team).order_by(Team.id)):
        officer = db.session.scalar(
            sa.select(User).where(User.team_id == team.id, User.role == "officer").order_by(User.id)
        )
        if officer is None:
            continue
        device = Device(
            id=secrets.token_hex(16),
            user_id=officer.id,
            name="Bench phone",
            token_hash=secrets.token_hex(32),
        )
        db.session.add(device)
        db.session.flush()
        changes = [
            _change(
                device,
                end - timedelta(days=days),
                "local_priority",
                n,
                title=title,
                priority_status="open",
                owner_id=officer.id,
                review_by=(end - timedelta(days=review)).date().isoformat(),
            )
            for n, (days, review, title) in enumerate(
                (
                    (40, 2, "Speeding near the school"),
                    (20, -20, "Parking on the green"),
                    (5, -60, "Antisocial behaviour in the park"),
                )
            )
        ]
        changes.append(
            _change(
                device,
                end - timedelta(days=30),
                "feedback",
                9,
                public=True,
                priority_id=changes[0]["id"],
            )
        )
        result = push(
            officer,
            device,
            {
                "batch_id": uuid.uuid4().hex,
                "device_now": datetime.now(timezone.utc),
                "pending": 0,
                "app_version": "bench",
                "changes": changes,
            },
        )
        assert all(r["status"] == "applied" for r in result["results"]), result
        for days, publicised in ((3, None), (6, 2)):
            starts = end + timedelta(days=7 + days)
            db.session.add(
                PlannedMeeting(
                    team_id=team.id,
                    kind="community_meeting",
                    starts_at=starts,
                    title="PACT meeting",
                    publicised_at=starts - timedelta(days=publicised) if publicised else None,
                )
            )
        device.pending, device.last_seen_at = 4, end - timedelta(days=2)
        db.session.commit()
        made += len(changes)
    return made


def measure(url: str, runs: int, label: str, floor: float, end: datetime, timed) -> list[tuple]:
    from server.alerts.rules import team_alerts

    with tempfile.TemporaryDirectory(prefix="beatbook-bench-alerts-") as scratch:
        folder = catalogue_folder(Path(scratch))
        app = create_app(
            {
                "DATABASE_URL": url,
                "SECRET_KEY": "bench",
                "TESTING": True,
                "CATALOGUE_DIR": str(folder),
            }
        )
        with app.app_context():
            give_each_team_the_loop(end)
            teams = list(db.session.scalars(sa.select(Team).where(Team.active.is_(True))))
            now = end + timedelta(days=7)
            found = team_alerts(teams, now)  # also the warm-up: facts caught up
            rules = sorted({a.rule for a in found})
            t = timed(lambda: team_alerts(teams, now), runs)
            db.session.remove()
            db.engine.dispose()
    what = f"alerts, {len(teams)} teams ({len(found):,} alerts, {len(rules)} rules)"
    return [(label, f"month to {now:%Y-%m-%d}", what, t, t / floor)]
