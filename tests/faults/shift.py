"""A shift syncing at once: 200 phones (10 teams of 20 officers; 20 of the phones shared, two
officers taking turns on each) against `beatbook serve`, driven by Locust in headless mode
(tests/faults/shift_locustfile.py).

The run fails on any answer but the expected one (any 5xx, 503 `unavailable` included: that is
what "database is locked" becomes), on "database is locked", a deadlock or a traceback in the
server's log, on a deadlock PostgreSQL counted, on a change refused or answered `duplicate`
(every change sent is valid and sent once), and on any change the server said it took that is
not in its change log afterwards (with its record).

    .venv/bin/python -m tests.faults.shift --database postgresql --seconds 300
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.bench.sync_server import PG_BASE, start_serve, temporary_postgres  # noqa: E402

PASSWORD = "beatbook-shift-password"
TEAMS, OFFICERS = 10, 20
SHARED = 20  # phones shared by two officers (the last 20 officers, in pairs, on two phones)
LOG_ALARMS = ("database is locked", "deadlock", "Traceback")


def make_people(database_url: str) -> list[list[str]]:
    """Teams and officers straight into the database; returns each phone's officers."""
    from argon2 import PasswordHasher

    import server.accounts.auth as auth
    from server import create_app
    from server.accounts.people import add_team, add_user
    from server.db import db
    from server.db.create import init_db

    # Production-cost Argon2 for 200 people would take minutes; a hash carries its parameters.
    saved, auth._hasher = auth._hasher, PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "shift", "CHECK_SCHEMA": False})
    officers = []
    try:
        with app.app_context():
            init_db()
            for t in range(TEAMS):
                add_team(f"NPT-S{t:02d}", f"Shift team {t}", "Shift town")
                for o in range(OFFICERS):
                    officers.append(f"pc.shift.{t:02d}.{o:02d}")
                    add_user(officers[-1], PASSWORD, "officer", f"NPT-S{t:02d}")
            db.session.remove()
            db.engine.dispose()
    finally:
        auth._hasher = saved
    own = [[name] for name in officers[: len(officers) - SHARED]]
    pairs = officers[len(officers) - SHARED :]
    # Phones 2k and 2k+1 are shared by officers 2k and 2k+1, each phone starting with the other.
    shared = [[pairs[k], pairs[k ^ 1]] for k in range(SHARED)]
    return own + shared


def _locust(url: str, devices: Path, out: Path, seconds: int, users: int, think: float, log):
    env = {
        **os.environ,
        "SHIFT_DEVICES": str(devices),
        "SHIFT_OUT": str(out),
        "SHIFT_THINK": str(think),
        "SHIFT_PASSWORD": PASSWORD,
    }
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(Path(__file__).with_name("shift_locustfile.py")),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        "40",
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        "30",
        "--host",
        url,
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    subprocess.run(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, check=True)


def _missing(database_url: str, applied: list) -> tuple[int, int]:
    """Changes answered as taken that the change log lacks, and records that do not exist."""
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        logged = {tuple(r) for r in conn.execute(sa.text("SELECT record_id, hlc FROM change"))}
        records = set(conn.execute(sa.text("SELECT id FROM record")).scalars())
        deadlocks = 0
        if database_url.startswith("postgresql"):
            deadlocks = conn.execute(
                sa.text("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
            ).scalar()
    engine.dispose()
    missing = sum(1 for key in applied if tuple(key) not in logged)
    no_record = len({record_id for record_id, _ in applied} - records)
    return missing + no_record, deadlocks


def run(database_url: str, workdir: Path, seconds: int, users: int, think: float, workers: int):
    devices = make_people(database_url)
    (workdir / "devices.json").write_text(json.dumps(devices))
    env = {**os.environ, "BEATBOOK_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    load_before = os.getloadavg()
    process, url, server_log = start_serve(env, workdir, workers=workers)
    try:
        with open(workdir / "locust.log", "w") as log:
            _locust(url, workdir / "devices.json", workdir / "out.json", seconds, users, think, log)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
        server_log.close()
    load_after = os.getloadavg()
    out = json.loads((workdir / "out.json").read_text())
    text = Path(server_log.name).read_text()
    missing, deadlocks = _missing(database_url, out["applied"])
    return {
        "database": database_url.split(":", 1)[0].split("+")[0],
        "workers": workers,
        "users": users,
        "seconds": seconds,
        "total": out["total"],
        "by_name": out["by_name"],
        "answers": out["answers"],
        "errors": out["errors"],
        "results": out["results"],
        "applied": len(out["applied"]),
        "missing": missing,
        "deadlocks": deadlocks,
        "alarms": {alarm: text.count(alarm) for alarm in LOG_ALARMS if alarm in text},
        "server_said": [line[:300] for line in text.splitlines() if _worth_quoting(line)][:8],
        "load": (load_before, load_after),
    }


def _worth_quoting(line: str) -> bool:
    return any(word in line for word in ("WARNING", "ERROR", "CRITICAL", *LOG_ALARMS))


def problems(summary: dict) -> list[str]:
    """What makes the run fail; empty when it is clean."""
    found = []
    for name, counts in summary["answers"].items():
        ok = {"sign in": "201", "sign out": "204"}.get(name, "200")
        wrong = {s: n for s, n in counts.items() if str(s) != ok}
        if wrong:
            found.append(f"{name}: answered {wrong}")
    if summary["errors"]:
        found.append(f"Locust counted failures: {summary['errors']}")
    bad = {
        s: n for s, n in summary["results"].items() if s not in ("applied", "merged", "conflict")
    }
    if bad:
        found.append(f"changes not taken: {bad}")
    if summary["missing"]:
        found.append(f"{summary['missing']} changes answered as taken are missing")
    if summary["deadlocks"]:
        found.append(f"PostgreSQL counted {summary['deadlocks']} deadlocks")
    if summary["alarms"]:
        found.append(f"in the server's log: {summary['alarms']}")
    if found and summary["server_said"]:
        found.append("the server's log: " + " | ".join(summary["server_said"]))
    if not summary["applied"]:
        found.append("nothing was applied")
    return found


def describe(summary: dict) -> str:
    t, load = summary["total"], summary["load"]
    statuses = {}
    for counts in summary["answers"].values():
        for status, n in counts.items():
            statuses[status] = statuses.get(status, 0) + n
    lines = [
        f"{summary['database']} ({summary['workers']} workers), {summary['users']} phones, "
        f"{summary['seconds']} s: {t['rps']:.1f} requests/s, answers {statuses}, "
        f"p50/p95/p99 {t['p50']:.0f}/{t['p95']:.0f}/{t['p99']:.0f} ms (max {t['max']:.0f}); "
        f"changes taken {summary['applied']} {summary['results']}, missing after "
        f"{summary['missing']}; load average {load[0][0]:.1f} before, {load[1][0]:.1f} after"
    ]
    for name, f in sorted(summary["by_name"].items()):
        lines.append(
            f"  {name:9} {f['requests']:>7} requests {f['failures']:>4} failed  "
            f"p50/p95/p99 {f['p50']:.0f}/{f['p95']:.0f}/{f['p99']:.0f} ms"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--users", type=int, default=TEAMS * OFFICERS)
    parser.add_argument("--think", type=float, default=2.0)
    parser.add_argument("--workers", type=int, help="4 on PostgreSQL, 2 on SQLite by default")
    args = parser.parse_args(argv)
    workers = args.workers or (4 if args.database == "postgresql" else 2)
    with tempfile.TemporaryDirectory(prefix="beatbook-shift-") as tmp:
        pg = temporary_postgres(os.environ.get("BENCH_PG_URL", PG_BASE))
        with pg if args.database == "postgresql" else nullcontext(None) as url:
            url = url or f"sqlite:///{Path(tmp) / 'shift.sqlite'}"
            summary = run(url, Path(tmp), args.seconds, args.users, args.think, workers)
    print(describe(summary))
    for problem in problems(summary):
        print("PROBLEM:", problem)
    return summary


if __name__ == "__main__":
    main()
