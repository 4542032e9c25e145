"""A shift syncing at once: many phones pushing and pulling against `beatbook serve` on 127.0.0.1.

Bounded: a fixed number of devices (default 200: 10 teams of 18 officers, 20 of them with a
second phone) for a fixed time (default 180 s), against a server this script starts on a free
loopback port over a fresh database, which is dropped afterwards. Each device loops: think
(uniform 0.5x-1.5x of --think seconds), then pushes a small batch (1-5 changes: mostly new
records, some edits of its team's few shared "hot" records made from a stale rev, which is what
makes conflicts), or pulls from its cursor (one loop in four).

Every --window seconds it reports pushes and pulls, their p50/p95, errors by status, and, on
PostgreSQL, what the database shows: the counter row's dead versions and the time to read it,
the sizes of the tables a push writes, backends waiting on locks, and the largest number of open
conflicts on one record with the bytes a pull carried. That is what tells a push slowed by the
counter-row lock from one slowed by growing indexes or by the conflicts it loads.

    .venv/bin/python -m tests.bench.load_sync --database postgresql --devices 200 --seconds 180
    .venv/bin/python -m tests.bench.load_sync --database sqlite --devices 50 --seconds 30
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests
import sqlalchemy as sa
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.bench.sync_server import (  # noqa: E402
    PG_BASE,
    running_server,
    temporary_postgres,
)

PASSWORD = "beatbook-load-password"
TEAMS, OFFICERS_PER_TEAM, HOT_PER_TEAM = 10, 18, 4


@dataclass
class Sample:
    at: float  # seconds since the start
    kind: str  # push | pull
    ms: float
    status: int  # 0: no answer
    bytes: int = 0


@dataclass
class Log:
    samples: list[Sample] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    database: list[dict] = field(default_factory=list)
    failures: Counter = field(default_factory=Counter)  # requests that got no answer, by error

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)


def make_people(database_url: str, devices: int) -> list[str]:
    """Teams and officers, straight into the database; returns one username per device."""
    from argon2 import PasswordHasher

    import server.accounts.auth as auth
    from server import create_app
    from server.accounts.people import add_team, add_user

    # Production-cost Argon2 would take minutes for 180 people; hashes carry their parameters.
    auth._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "load",
            "DATABASE_TIMEOUT": 0,
            "CHECK_SCHEMA": False,
        }
    )  # it makes the schema just below
    officers = []
    with app.app_context():
        from server.db.create import init_db

        init_db()
        for t in range(TEAMS):
            add_team(f"NPT-L{t:02d}", f"Load team {t}", "Load town")
            for o in range(OFFICERS_PER_TEAM):
                name = f"pc.load.{t:02d}.{o:02d}"
                add_user(name, PASSWORD, "officer", f"NPT-L{t:02d}")
                officers.append(name)
        from server.db import db

        db.engine.dispose()
    return [officers[i % len(officers)] for i in range(devices)]


class Device(threading.Thread):
    def __init__(
        self,
        url: str,
        username: str,
        team: int,
        shared: dict,
        log: Log,
        until: float,
        think: float,
        started: float,
        seed: int,
    ):
        super().__init__(daemon=True)
        self.url, self.username, self.team, self.shared, self.log = url, username, team, shared, log
        self.until, self.think, self.started = until, think, started
        self.rng = random.Random(seed)
        self.http = requests.Session()
        # A request sent on a kept-alive connection just as the server closes it fails before
        # any answer; a browser sends it again once, and so does this (a push is idempotent by
        # its batch id, so a resend is answered with the first answer).
        self.http.mount(
            "http://",
            HTTPAdapter(
                max_retries=Retry(total=1, connect=1, read=1, status=0, allowed_methods=None)
            ),
        )
        self.cursor, self.counter, self.seen_rev = "", 0, {}

    def sign_in(self) -> None:
        response = self.http.post(
            f"{self.url}/api/v1/auth/device",
            json={"username": self.username, "password": PASSWORD, "device_name": "Load phone"},
            timeout=60,
        )
        response.raise_for_status()
        body = response.json()
        self.device_id = body["device_id"]
        self.http.headers["Authorization"] = f"Bearer {body['token']}"

    def stamp(self) -> str:
        self.counter += 1
        return f"{int(time.time() * 1000):015d}-{self.counter % 100_000:05d}-{self.device_id}"

    def new_record(self) -> dict:
        when = datetime.now(timezone.utc) - timedelta(minutes=self.rng.randint(5, 600))
        return {
            "id": str(uuid.uuid4()),
            "op": "upsert",
            "hlc": self.stamp(),
            "base_rev": None,
            "data": {
                "occurred_at": when.isoformat(),
                "kind": "face_to_face",
                "summary": f"Spoke with residents ({self.rng.randint(1, 10**6)}).",
                "place": "High Street",
                "people_count": self.rng.randint(1, 9),
            },
        }

    def edit_hot(self) -> dict | None:
        hot = self.shared["hot"][self.team]
        if not hot:
            return None
        record_id = self.rng.choice(hot)
        # The rev this phone last saw (1 if never pulled): edits made without seeing the others'.
        return {
            "id": record_id,
            "op": "upsert",
            "hlc": self.stamp(),
            "base_rev": self.seen_rev.get(record_id, 1),
            "data": {"summary": f"Shared note {self.rng.randint(1, 10**6)} from {self.username}."},
        }

    def timed(self, kind: str, call) -> requests.Response | None:
        t0 = time.perf_counter()
        try:
            response = call()
            status, size = response.status_code, len(response.content)
        except requests.RequestException as exc:
            response, status, size = None, 0, 0
            with self.log.lock:
                self.log.failures[f"{kind}: {type(exc).__name__}: {str(exc)[:160]}"] += 1
        self.log.add(
            Sample(
                time.monotonic() - self.started,
                kind,
                (time.perf_counter() - t0) * 1000,
                status,
                size,
            )
        )
        return response

    def push(self) -> None:
        changes = []
        for _ in range(self.rng.randint(1, 5)):
            change = self.edit_hot() if self.rng.random() < 0.3 else None
            changes.append(change or self.new_record())
        body = {
            "device_id": self.device_id,
            "batch_id": uuid.uuid4().hex,
            "device_now": datetime.now(timezone.utc).isoformat(),
            "pending": 0,
            "app_version": "load",
            "changes": changes,
        }
        response = self.timed(
            "push", lambda: self.http.post(f"{self.url}/api/v1/sync/push", json=body, timeout=60)
        )
        if response is not None and response.status_code == 200:
            hot = self.shared["hot"][self.team]
            for result in response.json()["results"]:
                if result["rev"] == 1 and len(hot) < HOT_PER_TEAM:
                    with self.log.lock:
                        hot.append(result["id"])

    def pull(self) -> None:
        response = self.timed(
            "pull",
            lambda: self.http.get(
                f"{self.url}/api/v1/sync/pull",
                params={"since": self.cursor, "limit": 500},
                timeout=60,
            ),
        )
        if response is not None and response.status_code == 200:
            body = response.json()
            self.cursor = body["cursor"]
            for record in body["changes"]:
                self.seen_rev[record["id"]] = record["rev"]

    def run(self) -> None:
        while time.monotonic() < self.until:
            time.sleep(self.think * self.rng.uniform(0.5, 1.5))
            if time.monotonic() >= self.until:
                break
            self.pull() if self.rng.random() < 0.25 else self.push()
        self.http.close()


def watch_database(url: str, log: Log, until: float, started: float, every: float) -> None:
    """Sample PostgreSQL's view of the run every `every` seconds."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        while time.monotonic() < until:
            t0 = time.perf_counter()
            conn.execute(sa.text("SELECT value FROM sync_counter WHERE id = 1")).scalar()
            counter_ms = (time.perf_counter() - t0) * 1000
            tables = {
                row.relname: row._asdict()
                for row in conn.execute(
                    sa.text(
                        "SELECT relname, n_live_tup, n_dead_tup, n_tup_upd, n_tup_hot_upd, "
                        "autovacuum_count, pg_total_relation_size(relid) AS bytes "
                        "FROM pg_stat_user_tables WHERE relname IN "
                        "('sync_counter', 'record', 'change', 'conflict', 'device', 'sync_batch')"
                    )
                )
            }
            waits = {
                f"{r.wait_event_type}:{r.wait_event}": r.n
                for r in conn.execute(
                    sa.text(
                        "SELECT wait_event_type, wait_event, count(*) AS n FROM pg_stat_activity "
                        "WHERE datname = current_database() AND state = 'active' "
                        "AND pid <> pg_backend_pid() GROUP BY 1, 2"
                    )
                )
            }
            hot = conn.execute(
                sa.text(
                    "SELECT id, open_conflicts FROM record ORDER BY open_conflicts DESC, rev DESC "
                    "LIMIT 1"
                )
            ).first()
            # Pages a lookup of the counter row and of the hottest record touch: dead row
            # versions and index entries not yet cleaned up show here before anywhere else.
            buffers = {
                name: _buffers(conn, sql, {"id": hot.id if hot else ""})
                for name, sql in (
                    ("counter", "SELECT value FROM sync_counter WHERE id = 1"),
                    ("hot_record", "SELECT rev, data, meta FROM record WHERE id = :id"),
                )
            }
            log.database.append(
                {
                    "at": time.monotonic() - started,
                    "counter_read_ms": counter_ms,
                    "tables": tables,
                    "waits": waits,
                    "hottest": hot.open_conflicts if hot else 0,
                    "buffers": buffers,
                }
            )
            time.sleep(every)
    engine.dispose()


def _buffers(conn, sql: str, params: dict) -> int:
    plan = conn.execute(sa.text(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}"), params)
    top = plan.scalar()[0]["Plan"]
    return top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0.0


def report(log: Log, seconds: float, window: float) -> dict:
    windows = defaultdict(list)
    for s in log.samples:
        windows[int(s.at // window)].append(s)
    rows = []
    print(
        f"{'window':>9} {'push/s':>7} {'p50':>6} {'p95':>6} {'pull/s':>7} {'p50':>6} "
        f"{'p95':>6} {'pull KB':>8} {'errors':>10}  database"
    )
    for n in sorted(windows):
        got = windows[n]
        push = [s.ms for s in got if s.kind == "push" and s.status == 200]
        pull = [s for s in got if s.kind == "pull" and s.status == 200]
        errors = Counter(s.status for s in got if s.status != 200)
        db_now = [d for d in log.database if n * window <= d["at"] < (n + 1) * window]
        row = {
            "from_s": n * window,
            "push_per_s": len(push) / window,
            "push_p50": percentile(push, 50),
            "push_p95": percentile(push, 95),
            "pull_per_s": len(pull) / window,
            "pull_p50": percentile([s.ms for s in pull], 50),
            "pull_p95": percentile([s.ms for s in pull], 95),
            "pull_kb": statistics.mean([s.bytes for s in pull]) / 1024 if pull else 0,
            "errors": dict(errors),
            "database": db_now[-1] if db_now else None,
        }
        rows.append(row)
        db_text = ""
        if row["database"]:
            d = row["database"]
            counter = d["tables"].get("sync_counter", {})
            sizes = "/".join(
                f"{d['tables'][t]['bytes'] / 2**20:.0f}"
                for t in ("record", "change", "conflict")
                if t in d["tables"]
            )
            lock_waits = sum(v for k, v in d["waits"].items() if k.startswith("Lock"))
            db_text = (
                f"counter dead {counter.get('n_dead_tup', 0)} read "
                f"{d['counter_read_ms']:.1f} ms; pages read: counter "
                f"{d['buffers']['counter']}, hot record {d['buffers']['hot_record']}; "
                f"record/change/conflict MB {sizes}; "
                f"waiting on locks {lock_waits}; hottest record {d['hottest']} conflicts"
            )
        print(
            f"{n * window:>7.0f} s {row['push_per_s']:>7.1f} {row['push_p50']:>6.0f} "
            f"{row['push_p95']:>6.0f} {row['pull_per_s']:>7.1f} {row['pull_p50']:>6.0f} "
            f"{row['pull_p95']:>6.0f} {row['pull_kb']:>8.1f} {str(dict(errors) or '-'):>10}  "
            f"{db_text}",
            flush=True,
        )
    pushes = [s.ms for s in log.samples if s.kind == "push" and s.status == 200]
    statuses = Counter(s.status for s in log.samples)
    summary = {
        "requests_per_s": len(log.samples) / seconds,
        "statuses": dict(statuses),
        "push_p50": percentile(pushes, 50),
        "push_p95": percentile(pushes, 95),
        "push_p99": percentile(pushes, 99),
        "windows": rows,
    }
    summary["failures"] = dict(log.failures)
    for failure, count in log.failures.items():
        print(f"no answer x{count}: {failure}")
    print(
        f"all: {summary['requests_per_s']:.1f} requests/s, statuses {dict(statuses)}, push "
        f"p50/p95/p99 {summary['push_p50']:.0f}/{summary['push_p95']:.0f}/"
        f"{summary['push_p99']:.0f} ms"
    )
    return summary


def run(database_url: str, args, workdir: Path) -> dict:
    usernames = make_people(database_url, args.devices)
    log = Log()
    with running_server(database_url, workdir, workers=args.workers) as server:
        assert server.url.startswith("http://127.0.0.1:"), server.url  # loopback only
        shared = {"hot": defaultdict(list)}
        started = time.monotonic()
        until = started + args.seconds
        devices = [
            Device(
                server.url,
                name,
                i % (TEAMS * OFFICERS_PER_TEAM) // OFFICERS_PER_TEAM,
                shared,
                log,
                until,
                args.think,
                started,
                seed=i,
            )
            for i, name in enumerate(usernames)
        ]
        for device in devices:
            device.sign_in()
        started = time.monotonic()
        until = started + args.seconds
        for device in devices:
            device.started, device.until = started, until
            device.start()
        watcher = None
        if database_url.startswith("postgresql"):
            watcher = threading.Thread(
                target=watch_database,
                daemon=True,
                args=(database_url, log, until, started, args.window / 3),
            )
            watcher.start()
        for device in devices:
            device.join()
        if watcher:
            watcher.join()
    return report(log, args.seconds, args.window)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--think", type=float, default=2.0, help="mean seconds between calls")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--window", type=float, default=30, help="seconds per report line")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.devices > 500 or args.seconds > 900:
        parser.error("bounded: at most 500 devices for 900 s")
    with tempfile.TemporaryDirectory(prefix="beatbook-load-") as tmp:
        if args.database == "postgresql":
            with temporary_postgres(os.environ.get("BENCH_PG_URL", PG_BASE)) as url:
                summary = run(url, args, Path(tmp))
        else:
            summary = run(f"sqlite:///{Path(tmp) / 'load.sqlite'}", args, Path(tmp))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, default=str))
    return summary


if __name__ == "__main__":
    main()
