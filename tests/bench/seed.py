"""A fast bulk seeder: N realistic engagement records straight into the real tables.

Benchmarks need a million records in a minute or two, which the one write path (a push per
batch) cannot give; so this writes rows the way SqlStore would leave them (data and meta JSON,
one record_standard / record_group row per code, a unique seq, the sync counter moved past it)
with executemany on SQLite and COPY on PostgreSQL.

    from bench.seed import seed
    summary = seed("sqlite:////tmp/bench.sqlite", records=1_000_000, teams=40, seed=1)

or from a shell:  .venv/bin/python tests/bench/seed.py sqlite:////tmp/bench.sqlite --records 100000

Teams differ on purpose (each has its own appetite for each kind of engagement, and a few
neglect one kind almost entirely) so an assessment grid over the seeded force shows every rating.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import random
import secrets
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from schema import load_catalogues, load_vocabularies  # noqa: E402
from server.db import db  # noqa: E402
from server.db.models import (  # noqa: E402
    Change,
    Device,
    Record,
    RecordGroup,
    RecordStandard,
    SyncCounter,
    Team,
    User,
)
from server.db.writers import set_high_water  # noqa: E402

PASSWORD = "beatbook-bench"
CHUNK = 20_000
KIND_WEIGHTS = {
    "face_to_face": 40,
    "key_contact": 6,
    "beat_surgery": 3,
    "community_meeting": 2,
    "school_visit": 3,
    "partner_meeting": 3,
    "social_media_post": 8,
    "web_page_update": 1,
    "community_alert": 3,
    "feedback": 2,
    "priority_review": 1,
    "outreach": 3,
}
MEETINGS = {"beat_surgery", "community_meeting", "priority_review"}
PLACES = [
    "High Street",
    "the market",
    "Co-op car park",
    "the library",
    "school gates",
    "the leisure centre",
    "Community centre",
    "Parish hall",
    "the seafront",
    "Railway station",
    "the youth club",
    "Methodist church hall",
    "Village green",
]
CONTACTS = [
    ("Head teacher", "St Mary's Primary"),
    ("Chair", "Residents' Association"),
    ("Imam", "Central Mosque"),
    ("Manager", "Town Centre BID"),
    ("Warden", "Sheltered housing"),
    ("Clerk", "Town Council"),
    ("Vicar", "St John's"),
    ("Coordinator", "Food bank"),
    ("Youth worker", "Youth club"),
    ("Manager", "Homeless shelter"),
    ("Chair", "Parish council"),
    ("Secretary", "Neighbourhood Watch"),
]
SUBJECTS = [
    "shoplifting",
    "speeding on the main road",
    "antisocial behaviour in the park",
    "drug dealing near the station",
    "parking outside the school",
    "cycle thefts",
    "burglary prevention",
    "scam phone calls",
    "noise from a licensed premises",
    "fly-tipping",
    "knife crime",
    "online safety",
    "catalytic converter thefts",
]
OPENERS = {
    "face_to_face": "Spoke with {who} about {what}.",
    "key_contact": "Catch-up with the contact about {what}.",
    "beat_surgery": "Beat surgery: questions on {what}.",
    "community_meeting": "PACT meeting: priority agreed was {what}.",
    "school_visit": "Assembly and questions on {what}.",
    "partner_meeting": "Problem-solving with housing and the council on {what}.",
    "social_media_post": "Posted an update and appeal about {what}.",
    "web_page_update": "Updated the team page: priorities now include {what}.",
    "community_alert": "Alert sent about {what}.",
    "feedback": "You said {what}; we did extra patrols and two arrests.",
    "priority_review": "Reviewed priorities with residents; {what} stays a priority.",
    "outreach": "Drop-in with {who}; talked about {what} and how to report.",
}
WHO = [
    "shop staff",
    "residents",
    "parents",
    "young people",
    "older residents",
    "a landlord",
    "market traders",
    "dog walkers",
    "taxi drivers",
    "students",
]


@dataclass
class _Team:
    id: int
    code: str
    officers: list[int]
    weights: list[float]
    share: float

    @functools.cached_property
    def cumulative(self) -> list[float]:
        return list(itertools.accumulate(self.weights))


def _engine(engine_or_url) -> sa.Engine:
    if isinstance(engine_or_url, sa.Engine):
        return engine_or_url
    from server.db.engine import database_url

    return sa.create_engine(database_url(str(engine_or_url)))


def _stamp(moment: datetime, device: str, counter: int = 0) -> str:
    millis = int(moment.replace(tzinfo=timezone.utc).timestamp() * 1000)
    return f"{millis:015d}-{counter:05d}-{device}"


def _iso(moment: datetime | None) -> str | None:
    return moment.replace(tzinfo=timezone.utc).isoformat() if moment else None


def _people(engine: sa.Engine, rng: random.Random, teams: int, kinds: list[str]) -> list[_Team]:
    """Teams, their officers, a supervisor each, devices, an admin and a panel member."""
    from server.accounts.auth import hash_password

    password_hash = hash_password(PASSWORD)  # one Argon2 hash for everyone: it is slow on purpose
    made = []
    with engine.begin() as conn:
        existing = conn.execute(sa.select(sa.func.count()).select_from(Team.__table__)).scalar()
        if existing:
            raise RuntimeError("seed() wants an empty database: this one already has teams")
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        for index in range(teams):
            code = f"NPT-{index + 1:03d}"
            team_id = conn.execute(
                sa.insert(Team.__table__).values(
                    code=code,
                    name=f"Neighbourhood team {index + 1}",
                    area=f"Area {index + 1} and its villages",
                    active=True,
                    created_at=now,
                )
            ).inserted_primary_key[0]
            size = rng.randint(4, 12)
            users = [
                {
                    "username": f"pc.{code.lower()}.{n}",
                    "display_name": f"PC {index:02d}{n:02d}",
                    "password_hash": password_hash,
                    "role": "officer",
                    "team_id": team_id,
                    "active": True,
                    "created_at": now,
                }
                for n in range(size)
            ]
            conn.execute(sa.insert(User.__table__), users)
            officer_ids = list(
                conn.execute(
                    sa.select(User.id)
                    .where(User.team_id == team_id, User.role == "officer")
                    .order_by(User.id)
                ).scalars()
            )
            sergeant = conn.execute(
                sa.insert(User.__table__).values(
                    username=f"sgt.{code.lower()}",
                    display_name=f"Sgt {index:02d}",
                    role="supervisor",
                    password_hash=password_hash,
                    team_id=team_id,
                    active=True,
                    created_at=now,
                )
            ).inserted_primary_key[0]
            conn.execute(
                sa.text("INSERT INTO supervisor_team (user_id, team_id) VALUES (:u, :t)"),
                {"u": sergeant, "t": team_id},
            )
            conn.execute(
                sa.insert(Device.__table__),
                [
                    {
                        "id": secrets.token_hex(16),
                        "user_id": officer,
                        "name": "Phone",
                        "token_hash": secrets.token_hex(32),
                        "created_at": now,
                        "last_seen_at": now,
                        "last_sync_at": now,
                        "pending": 0,
                        "app_version": "bench",
                    }
                    for officer in officer_ids
                ],
            )
            # Appetite per kind: most teams do most things; some neglect one kind almost wholly.
            weights = [KIND_WEIGHTS[k] * rng.uniform(0.3, 1.6) for k in kinds]
            for _ in range(rng.choice([0, 0, 1, 1, 2])):
                weights[rng.randrange(len(kinds))] *= 0.02
            made.append(_Team(team_id, code, officer_ids, weights, size * rng.uniform(0.6, 1.4)))
        for role in ("admin", "panel"):
            conn.execute(
                sa.insert(User.__table__).values(
                    username=f"bench.{role}",
                    display_name=f"Bench {role}",
                    role=role,
                    password_hash=password_hash,
                    active=True,
                    created_at=now,
                )
            )
    return made


def _records(
    rng: random.Random,
    teams: list[_Team],
    total: int,
    start: datetime,
    end: datetime,
    kinds: list[str],
    defaults: dict[str, list[str]],
    groups: list[str],
    seldom: list[str],
) -> Iterator[tuple[dict, list[str], list[str]]]:
    """Records in time order (as phones would sync them), with their standards and groups."""
    span = (end - start).total_seconds()
    shares = [t.share for t in teams]
    team_picks = rng.choices(range(len(teams)), shares, k=total)
    # Sorted uniform instants, moved into the working day (07:00-22:00 UTC).
    offsets = sorted(rng.random() * span for _ in range(total))
    for n, offset in enumerate(offsets):
        team = teams[team_picks[n]]
        day = start + timedelta(seconds=offset)
        when = day.replace(
            hour=rng.randint(7, 21),
            minute=rng.randint(0, 59),
            second=rng.randint(0, 59),
            microsecond=0,
        )
        if when >= end:
            when = end - timedelta(minutes=5)
        kind = rng.choices(kinds, cum_weights=team.cumulative)[0]
        officer = rng.choice(team.officers)
        standards = list(defaults.get(kind, []))
        if rng.random() < 0.05:  # officers sometimes add or drop a standard
            standards = standards[:-1] if len(standards) > 1 else standards + ["PARTNER"]
        reached = rng.sample(groups, k=rng.choice([0, 0, 1, 1, 1, 2]))
        if kind == "outreach" and not set(reached) & set(seldom):
            reached.append(rng.choice(seldom))
        yield _row(rng, n, when, kind, team, officer, standards, reached), standards, reached


def _row(rng, n, when, kind, team, officer, standards, reached) -> dict:
    publicised = None
    if kind in MEETINGS:
        publicised = when - timedelta(days=rng.choice([1, 3, 5, 7, 8, 10, 14, 21]), hours=2)
    role, org = rng.choice(CONTACTS) if kind == "key_contact" else ("", "")
    summary = OPENERS[kind].format(who=rng.choice(WHO), what=rng.choice(SUBJECTS))
    people = rng.randint(1, 6) if kind in ("face_to_face", "key_contact") else rng.randint(0, 45)
    data = {
        "schema_version": 2,
        "occurred_at": _iso(when),
        "kind": kind,
        "standards": standards,
        "place": rng.choice(PLACES),
        "location": (
            {
                "lat": round(50.6 + rng.random() * 0.4, 5),
                "lon": round(-2.9 + rng.random(), 5),
                "accuracy_m": 12,
            }
            if rng.random() < 0.3
            else None
        ),
        "duration_minutes": rng.choice([5, 10, 15, 20, 30, 45, 60, 90, 120]),
        "people_count": people,
        "groups": reached,
        "summary": summary,
        "follow_up": rng.choice(["", "", "", "Revisit next week.", "Refer to the council."]),
        "publicised_at": _iso(publicised),
        "contact_role": role,
        "contact_org": org,
        "public": kind == "feedback" and rng.random() < 0.8,
    }
    device = f"{officer:032x}"
    created = when + timedelta(minutes=rng.randint(1, 3 * 24 * 60))
    stamp = _stamp(created, device)
    deleted = rng.random() < 0.01
    # Written as text: the same JSON SqlStore stores, without a json.dumps per record.
    names = ",".join(f'"{name}"' for name in data)
    meta = (
        f'[["{stamp}",2,["_deleted"]],["{stamp}",1,[{names}]]]'
        if deleted
        else f'[["{stamp}",1,[{names},"_deleted"]]]'
    )

    age = rng.random()
    state = "approved" if age < 0.6 else ("returned" if age < 0.63 else "pending")
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "team_id": team.id,
        "officer_id": officer,
        "device_id": device,
        "rev": 2 if deleted else 1,
        "seq": n + 1,
        "deleted": deleted,
        "occurred_at": when,
        "kind": kind,
        "summary": summary,
        "follow_up": data["follow_up"],
        "place": data["place"],
        "people_count": people,
        "duration_minutes": data["duration_minutes"],
        "publicised_at": publicised,
        "contact_role": role,
        "contact_org": org,
        "public": data["public"],
        "data": data,
        "meta": meta,
        "review_state": state,
        "review_comment": "Add the people count." if state == "returned" else "",
        "reviewed_by_id": None,
        "reviewed_at": created if state != "pending" else None,
        "open_conflicts": 0,
        "created_at": created,
        "updated_at": created,
        "hlc": stamp,
    }


class _Writer:
    """Bulk rows into one table: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, raw, dialect: str, table: sa.Table):
        self.raw, self.dialect, self.table = raw, dialect, table
        self.columns = [c.name for c in table.columns]
        self.json = {c.name for c in table.columns if isinstance(c.type, sa.JSON)}
        self.times = {c.name for c in table.columns if isinstance(c.type, sa.DateTime)}

    def _converter(self, name: str):
        """How one column's Python value becomes the driver's, or None to pass it through."""
        if name in self.json:
            return lambda v: (
                v if v is None or isinstance(v, str) else json.dumps(v, separators=(",", ":"))
            )
        if self.dialect == "sqlite" and name in self.times:
            # SQLAlchemy's SQLite storage format, microseconds always written
            return lambda v: None if v is None else v.isoformat(" ", "microseconds")
        return None

    def write(self, rows: list[dict]) -> None:
        if not rows:
            return
        # Columns the rows leave out (an autoincrement id) get the database's own value.
        columns = [c for c in self.columns if c in rows[0]]
        converters = [(c, self._converter(c)) for c in columns]
        values = [
            tuple(row.get(c) if f is None else f(row.get(c)) for c, f in converters) for row in rows
        ]
        cursor = self.raw.cursor()
        names = ", ".join(f'"{c}"' for c in columns)
        if self.dialect == "postgresql":
            with cursor.copy(f'COPY "{self.table.name}" ({names}) FROM STDIN') as copy:
                for row in values:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            cursor.executemany(
                f'INSERT INTO "{self.table.name}" ({names}) VALUES ({marks})', values
            )
        cursor.close()


def seed(
    engine_or_url,
    records: int = 1_000_000,
    teams: int = 40,
    seed: int = 1,
    years: float = 3.0,
    end: datetime | None = None,
    change_log: bool = False,
    progress: bool = False,
) -> dict:
    """Fill an empty Beatbook database with `teams` teams and `records` records; returns counts.

    Creates the tables when they are missing. Records span `years` up to `end` (default now,
    naive UTC). With change_log, one "upsert" change per record is written too.
    """
    engine = _engine(engine_or_url)
    try:
        return _seed(engine, records, teams, seed, years, end, change_log, progress)
    finally:
        if engine is not engine_or_url:  # made here from a URL: close its connections
            engine.dispose()


def _seed(
    engine: sa.Engine,
    records: int,
    teams: int,
    seed: int,
    years: float,
    end: datetime | None,
    change_log: bool,
    progress: bool,
) -> dict:
    dialect = engine.dialect.name
    db.metadata.create_all(engine)
    rng = random.Random(seed)
    vocabularies = load_vocabularies()
    catalogue = load_catalogues().versions[-1]
    # Engagement kinds only: a local priority (issue 15) is set by a team, not drawn at random,
    # and leaving it out keeps the seed's records as they were.
    kinds = [k["code"] for k in vocabularies.kinds if k["code"] in KIND_WEIGHTS]
    defaults = {k: catalogue.default_standards(k) for k in kinds}
    groups = sorted(vocabularies.group_codes)
    seldom = sorted(vocabularies.seldom_heard)
    end = end or datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    start = end - timedelta(days=365.25 * years)
    started = time.perf_counter()
    made = _people(engine, rng, teams, kinds)

    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if dialect == "sqlite":
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-1000000")  # 1 GB: index pages stay in memory
            cursor.execute("PRAGMA foreign_keys=OFF")
        cursor.close()
        writers = {
            t: _Writer(raw, dialect, t.__table__)
            for t in (Record, RecordStandard, RecordGroup, Change)
        }
        counts = {"records": 0, "record_standard": 0, "record_group": 0, "changes": 0}
        batch: list[tuple[dict, list[str], list[str]]] = []

        def flush() -> None:
            rows = [r for r, _, _ in batch]
            writers[Record].write(rows)
            standard_rows = [
                {"record_id": r["id"], "code": c} for r, s, _ in batch for c in sorted(set(s))
            ]
            group_rows = [
                {"record_id": r["id"], "code": c} for r, _, g in batch for c in sorted(set(g))
            ]
            writers[RecordStandard].write(standard_rows)
            writers[RecordGroup].write(group_rows)
            if change_log:
                writers[Change].write([_change_row(r) for r in rows])
                counts["changes"] += len(rows)
            raw.commit()
            counts["records"] += len(rows)
            counts["record_standard"] += len(standard_rows)
            counts["record_group"] += len(group_rows)
            if progress:
                print(f"\r  {counts['records']:>9,} records", end="", file=sys.stderr, flush=True)
            batch.clear()

        for item in _records(rng, made, records, start, end, kinds, defaults, groups, seldom):
            batch.append(item)
            if len(batch) >= CHUNK:
                flush()
        flush()
        if progress:
            print(file=sys.stderr)
    finally:
        raw.close()
    with engine.begin() as conn:
        conn.execute(sa.delete(SyncCounter.__table__))
        conn.execute(sa.insert(SyncCounter.__table__).values(id=1, value=counts["records"]))
        set_high_water(conn, counts["records"])  # PostgreSQL's sequence too
    analyse(engine)
    counts.update(
        teams=teams,
        seconds=round(time.perf_counter() - started, 1),
        start=start.isoformat(),
        end=end.isoformat(),
    )
    return counts


def _change_row(record: dict) -> dict:
    return {
        "record_id": record["id"],
        "op": "upsert",
        "status": "applied",
        "hlc": record["hlc"],
        "effective_hlc": record["hlc"],
        "base_rev": None,
        "rev": 1,
        "seq": record["seq"],
        "data": {"fields": sorted(record["data"]), "values": record["data"]},
        "errors": None,
        "conflicts": None,
        "user_id": record["officer_id"],
        "device_id": record["device_id"],
        "batch_id": None,
        "occurred_at": record["occurred_at"],
        "device_time": _iso(record["created_at"]),
        "received_at": record["created_at"],
    }


def analyse(engine: sa.Engine) -> None:
    """Planner statistics (and, on PostgreSQL, the visibility map) as a live server would have."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="database URL, e.g. sqlite:////tmp/bench.sqlite")
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--teams", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--change-log", action="store_true")
    args = parser.parse_args(argv)
    summary = seed(
        args.url,
        args.records,
        args.teams,
        args.seed,
        args.years,
        change_log=args.change_log,
        progress=True,
    )
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
