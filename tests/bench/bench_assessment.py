"""Assessment benchmark: the force's grid for a quarter and a year, and one team's page, over
1,000,000 seeded records, beside the floor of one bare GROUP BY over the same rows.

    .venv/bin/python tests/bench/bench_assessment.py                       # SQLite only
    .venv/bin/python tests/bench/bench_assessment.py --sqlite /var/tmp/a.sqlite  # keep, reuse
    .venv/bin/python tests/bench/bench_assessment.py \\
        --postgres postgresql://postgres@127.0.0.1:5432/test                # and PostgreSQL

SQLite: a temporary file, seeded and removed at the end (a million records make 2 GB); with
--sqlite PATH the file is kept and reused (reseeded when the schema changed). PostgreSQL gets a
database of its own, seeded each run and dropped at the end. Prints the
median of --runs timings for each step and its ratio to the floor of the same period.

Assessment reads assessment_fact (server/assessment/facts.py) and its monthly rollups
(rollup.py), which the first assessment after a bulk load builds once (reported) and later ones
only top up; the cost of topping up after 500 writes is reported last.

The floors, per period:
  floor        SELECT team_id, count(*) FROM record WHERE occurred_at in the period GROUP BY team_id
               (and the same over the period and the one before, for the grid with change)
  floor+codes  the same joined to record_standard, then to record_group: what reading standards
               and groups from the normalised tables would cost (the facts avoid it)
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
for path in (ROOT, ROOT / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench import bench_alerts  # noqa: E402
from bench.seed import seed  # noqa: E402

from server import create_app  # noqa: E402
from server.db import db  # noqa: E402
from server.db.models import Record, RecordGroup, RecordStandard, User  # noqa: E402
from server.db.writers import set_high_water  # noqa: E402

# A fixed end keeps the seeded file reusable and the periods the same from run to run.
END = datetime(2026, 10, 20, 12, 0)
QUARTER, YEAR = "2026-Q3", "2025"


def schema_hash() -> str:
    ddl = "".join(
        str(sa.schema.CreateTable(t)) + "".join(sorted(i.name for i in t.indexes))
        for t in db.metadata.sorted_tables
    )
    return hashlib.sha256(ddl.encode()).hexdigest()[:10]


def timed(fn, runs: int) -> float:
    fn()  # warm: the first run reads pages from disk, which is not what a busy server does
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def floors(period) -> dict:
    in_period = (Record.occurred_at >= period.start_utc, Record.occurred_at < period.end_utc)
    bare = sa.select(Record.team_id, sa.func.count()).where(*in_period).group_by(Record.team_id)
    standards = (
        sa.select(Record.team_id, sa.func.count())
        .join(RecordStandard, RecordStandard.record_id == Record.id)
        .where(*in_period)
        .group_by(Record.team_id)
    )
    groups = (
        sa.select(Record.team_id, sa.func.count())
        .join(RecordGroup, RecordGroup.record_id == Record.id)
        .where(*in_period)
        .group_by(Record.team_id)
    )

    def codes():
        db.session.execute(standards).all()
        db.session.execute(groups).all()

    return {"floor": lambda: db.session.execute(bare).all(), "floor+codes": codes}


def measure(url: str, runs: int, label: str) -> list[tuple]:
    from server.assessment import facts
    from server.assessment.grid import (
        assess,
        assess_with_previous,
        resolve_period,
        trend,
        visible_teams,
    )

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True})
    rows = []
    with app.app_context():
        now = END
        teams = visible_teams(None)
        start = time.perf_counter()
        built = facts.refresh()  # after a bulk load: the one-off first build of assessment_fact
        if built:
            rows.append(
                (
                    label,
                    f"{built:,} facts",
                    "first build of assessment_fact (once)",
                    time.perf_counter() - start,
                    float("nan"),
                )
            )
        rows_in = lambda p: db.session.scalar(  # noqa: E731
            sa.select(sa.func.count()).where(
                Record.occurred_at >= p.start_utc, Record.occurred_at < p.end_utc
            )
        )
        for name in (QUARTER, YEAR):
            period = resolve_period(name, now)
            base = floors(period)
            floor = timed(base["floor"], runs)
            rows.append((label, f"{name} ({rows_in(period):,} rows)", "floor", floor, 1.0))
            t = timed(base["floor+codes"], runs)
            rows.append((label, name, "floor+codes", t, t / floor))
            t = timed(lambda: assess(period, teams, now), runs)
            rows.append((label, name, f"grid, {len(teams)} teams", t, t / floor))
            t = timed(lambda: assess_with_previous(period, teams, now), runs)
            rows.append((label, name, "grid + change from last period", t, t / floor))
            # That is two periods assessed: their floor is one GROUP BY over both periods' rows.
            previous = period.previous()
            both = timed(
                lambda: db.session.execute(
                    sa.select(Record.team_id, sa.func.count())
                    .where(
                        Record.occurred_at >= previous.start_utc,
                        Record.occurred_at < period.end_utc,
                    )
                    .group_by(Record.team_id)
                ).all(),
                runs,
            )
            rows.append((label, name, "floor over it and the period before", both, both / floor))
            rows.append((label, name, "grid + change, x that two-period floor", t, t / both))
        period = resolve_period(QUARTER, now)
        team = teams[0]
        floor = timed(floors(period)["floor"], runs)
        t = timed(lambda: trend(team, period, 12, now), runs)
        rows.append((label, QUARTER, f"one team's page (12 quarters, {team.code})", t, t / floor))
        client = app.test_client()
        admin = db.session.scalar(sa.select(User).where(User.role == "admin"))
        from server.accounts.sessions import start_session

        sid = start_session(admin.id)  # the console checks a server-side session on each request
        db.session.commit()
        with client.session_transaction() as session:
            session.update(
                console_user_id=admin.id,
                console_started=int(time.time()),
                csrf="x",
                console_sid=sid,
            )
        page = f"/console/assessment/teams/{team.code}?period={QUARTER}"
        grid = f"/console/assessment?period={QUARTER}"
        for what, path in (
            ("team page over HTTP (render included)", page),
            ("grid page over HTTP (render included)", grid),
        ):
            assert client.get(path).status_code == 200
            t = timed(lambda: client.get(path), runs)
            rows.append((label, QUARTER, what, t, t / floor))
        rows += upkeep(runs, label)
        db.session.remove()
        db.engine.dispose()
    # Issue 15's target: alerts for the whole force in under 1 s, beside the quarter's floor.
    rows += bench_alerts.measure(url, runs, label, floor, END, timed)
    return rows


def upkeep(runs: int, label: str) -> list[tuple]:
    """What keeping assessment_fact and its monthly rollups current costs: facts.refresh()
    after 500 writes (each a new seq, as every sync write gives), of one team's latest records
    (a phone's push) or scattered over every team and month; the rollups' share timed apart.
    The writes change nothing but seq, so the seeded file stays as it was."""
    import random

    from server.assessment import facts, rollup

    spent = [0.0]
    batch = rollup.Batch

    class Timed(batch):
        def before(self):
            start = time.perf_counter()
            super().before()
            spent[0] += time.perf_counter() - start

        def after(self):
            start = time.perf_counter()
            super().after()
            spent[0] += time.perf_counter() - start

    rng = random.Random(1)
    team = db.session.scalar(sa.select(Record.team_id).order_by(Record.team_id).limit(1))
    pools = {
        "one team, latest": list(
            db.session.scalars(
                sa.select(Record.id)
                .where(Record.team_id == team)
                .order_by(Record.occurred_at.desc())
                .limit(2000)
            )
        ),
        "scattered": list(
            db.session.scalars(sa.select(Record.id).order_by(Record.id).limit(20000))
        ),
    }
    rows = []
    rollup.Batch = Timed
    try:
        for what, pool in pools.items():
            totals, shares = [], []
            for _ in range(runs):
                top = db.session.scalar(sa.select(sa.func.max(Record.seq)))
                for n, record_id in enumerate(rng.sample(pool, 500)):
                    db.session.execute(
                        sa.update(Record).where(Record.id == record_id).values(seq=top + n + 1)
                    )
                set_high_water(db.session, top + 500)  # as a push would
                db.session.commit()
                spent[0] = 0.0
                start = time.perf_counter()
                facts.refresh()
                totals.append(time.perf_counter() - start)
                shares.append(spent[0])
            rows.append(
                (
                    label,
                    f"500 writes, {what}",
                    "refresh after them: facts + rollups",
                    statistics.median(totals),
                    float("nan"),
                )
            )
            rows.append(
                (
                    label,
                    f"500 writes, {what}",
                    "  of which the rollups",
                    statistics.median(shares),
                    float("nan"),
                )
            )
    finally:
        rollup.Batch = batch
    return rows


def sqlite_file(path: Path, records: int, teams: int) -> str:
    url = f"sqlite:///{path}"
    marker = path.with_suffix(".schema")
    app = create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "bench", "CHECK_SCHEMA": False})
    with app.app_context():
        wanted = f"{schema_hash()}-{records}-{teams}-{END.isoformat()}"
    if path.exists() and marker.exists() and marker.read_text() == wanted:
        print(f"Reusing {path}", file=sys.stderr)
        return url
    for stale in path.parent.glob(path.name + "*"):
        stale.unlink()
    print(f"Seeding {records:,} records into {path}", file=sys.stderr)
    print(seed(url, records=records, teams=teams, seed=1, end=END, progress=True), file=sys.stderr)
    marker.write_text(wanted)
    return url


TARGET_RECORDS = 1_000_000


def report(rows: list[tuple], records: int) -> None:
    print(f"\n{'database':<11} {'period':<22} {'what':<42} {'median s':>9} {'x floor':>8}")
    for label, period, what, seconds, ratio in rows:
        times = f"{ratio:.1f}" if ratio == ratio else "-"  # NaN: nothing to compare with
        print(f"{label:<11} {period:<22} {what:<42} {seconds:>9.4f} {times:>8}")
    print(
        f"\nTargets: the quarter grid under 1 s and within 3x of the floor, and the force's "
        f"alerts under 1 s, at {TARGET_RECORDS:,} records."
    )
    if records != TARGET_RECORDS:
        print(
            f"This run seeded {records:,}: the floor shrinks with the rows while the grid's "
            "fixed costs do not,\nso its 'x floor' is not the target's measure "
            f"(BENCH_RECORDS={TARGET_RECORDS} make bench, or --records {TARGET_RECORDS})."
        )


def measure_sqlite(args: argparse.Namespace) -> list[tuple]:
    if args.sqlite:
        return measure(sqlite_file(args.sqlite, args.records, args.teams), args.runs, "SQLite")
    with tempfile.TemporaryDirectory(prefix="beatbook-bench-assessment-") as scratch:
        path = Path(scratch) / "bench.sqlite"
        return measure(sqlite_file(path, args.records, args.teams), args.runs, "SQLite")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--teams", type=int, default=40)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--sqlite", type=Path, help="SQLite file to seed once and keep (default: a temporary one)"
    )
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument(
        "--postgres", help="a PostgreSQL server URL; a database is made and dropped"
    )
    parser.add_argument("--postgres-db", help="measure this already seeded database instead (kept)")
    args = parser.parse_args(argv)
    rows: list[tuple] = []
    if not args.no_sqlite:
        rows += measure_sqlite(args)
    if args.postgres and args.postgres_db:
        from server.db.engine import database_url

        url = sa.make_url(database_url(args.postgres)).set(database=args.postgres_db)
        rows += measure(url.render_as_string(hide_password=False), args.runs, "PostgreSQL")
    elif args.postgres:
        from server.db.engine import database_url

        admin = sa.create_engine(database_url(args.postgres), isolation_level="AUTOCOMMIT")
        name = f"beatbook_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = admin.url.set(database=name).render_as_string(hide_password=False)
        try:
            print(
                f"Seeding {args.records:,} records into PostgreSQL database {name}", file=sys.stderr
            )
            print(
                seed(url, records=args.records, teams=args.teams, seed=1, end=END, progress=True),
                file=sys.stderr,
            )
            rows += measure(url, args.runs, "PostgreSQL")
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    report(rows, args.records)
    print(
        f"\n{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC: medians of {args.runs} runs after a "
        f"warm-up; {args.records:,} records over 3 years to {END:%Y-%m-%d}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
