"""`make bench`, sync part: push realistic records through the real HTTP endpoint under gunicorn.

For each database (SQLite, then PostgreSQL when it is reachable) and each round, a fresh
database gets a team and an officer, `beatbook serve` starts on a free port, a phone signs in
and pushes N records in batches of 500 over one keep-alive connection, then pulls them all
back (limit 1000). Beside it, in the same round, the raw floor: the same records inserted into a
plain table with executemany, one transaction per 500 (SQLite in WAL; PostgreSQL likewise),
and on SQLite the floor plus a change-log row per record: the least the issue's contract writes.

Figures are medians over the rounds, with their spread, since this 2-core machine is shared.
Besides wall time, the CPU time each request costs is read from /proc: the server's processes
plus, on PostgreSQL, the backends serving them (the floor: this process and its backend). So a
busy machine can be told from a slow server; the ratio to the floor is given both ways.

    .venv/bin/python -m tests.bench.bench_sync --records 20000 --rounds 3
    BENCH_SYNC_RECORDS=5000 BENCH_SYNC_ROUNDS=1 BENCH_SYNC_DATABASES=sqlite \\
        .venv/bin/python -m tests.bench.bench_sync
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from schema import load_catalogues, load_vocabularies  # noqa: E402
from server.demo import WEIGHTS, _record  # noqa: E402
from tests.bench.sync_server import (  # noqa: E402
    PG_BASE,
    Server,
    postgres_available,
    process_cpu,
    running_server,
    temporary_postgres,
)

BATCH = 500
PULL_LIMIT = 1000
# Targets from the issue: a third of the raw floor on SQLite, a 500-change batch under 250 ms p95.
TARGET_RATIO = 1 / 3
TARGET_P95_MS = 250.0
FLOOR_COLUMNS = (
    "id",
    "occurred_at",
    "kind",
    "summary",
    "follow_up",
    "place",
    "people_count",
    "duration_minutes",
    "publicised_at",
    "contact_role",
    "contact_org",
    "public",
    "data",
)
Records = list[tuple[str, datetime, dict]]


@dataclass
class Run:
    """One timed pass: records, wall and CPU seconds, and each request's (or batch's) times."""

    records: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # the application's and the database's, together
    batch_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    db_cpu_ms: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    @property
    def cpu_rate(self) -> float:
        return self.records / self.cpu_seconds if self.cpu_seconds else 0.0

    def timed(
        self,
        step: Callable[[], int],
        cpu: Callable[[], float],
        db_cpu: Callable[[], float] = lambda: 0.0,
    ) -> None:
        """Run one step (returning how many records it did), adding its wall and CPU times."""
        c0, d0 = cpu(), db_cpu()
        t0 = time.perf_counter()
        self.records += step()
        wall = time.perf_counter() - t0
        used, db_used = cpu() - c0, db_cpu() - d0
        self.seconds += wall
        self.cpu_seconds += used + db_used
        self.batch_ms.append(wall * 1000)
        self.cpu_ms.append(used * 1000)
        self.db_cpu_ms.append(db_used * 1000)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0.0


# --- the records ----------------------------------------------------------------------------


def make_records(count: int, seed: int = 1) -> Records:
    """`count` realistic records (id, when, data) over the last six months, as demo.py makes.

    In the order they happened, as a phone's outbox holds them: each batch covers a few days.
    """
    rng = random.Random(seed)
    catalogue = load_catalogues().current
    groups = sorted(load_vocabularies().group_codes)
    kinds, weights = zip(*WEIGHTS.items())
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    minutes = sorted((rng.randint(120, 180 * 24 * 60) for _ in range(count)), reverse=True)
    out = []
    for ago in minutes:
        when = now - timedelta(minutes=ago)
        kind = rng.choices(kinds, weights)[0]
        record_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        out.append((record_id, when, _record(rng, kind, when, catalogue, groups)))
    return out


def changes_for(records: Records, device_id: str) -> list[dict]:
    """Create-changes as the device would stamp them (when recorded, counter breaking ties)."""
    return [
        {
            "id": record_id,
            "op": "upsert",
            "base_rev": None,
            "data": data,
            "hlc": f"{int(when.timestamp() * 1000):015d}-{n % 100_000:05d}-{device_id}",
        }
        for n, (record_id, when, data) in enumerate(records)
    ]


def floor_rows(records: Records) -> list[tuple]:
    return [
        (
            record_id,
            data["occurred_at"],
            data["kind"],
            data["summary"],
            data["follow_up"],
            data["place"],
            data["people_count"],
            data["duration_minutes"],
            data["publicised_at"],
            data["contact_role"],
            data["contact_org"],
            data["public"],
            json.dumps(data),
        )
        for record_id, _, data in records
    ]


# --- the raw floors -------------------------------------------------------------------------


def sqlite_floor(records: Records, directory: Path, *, logged: bool = False) -> Run:
    """sqlite3 executemany of the same records into a plain table, WAL, one transaction per 500.

    Encoding each record's data as JSON is inside the timing: a server cannot skip it either.
    `logged` adds what the issue requires besides the record: a change-log row per change (who,
    stamp, status, the values it set) with the (record, stamp) index replays are checked against.
    Still raw sqlite3 with nothing validated or merged: the least any conforming server writes.
    """
    conn = sqlite3.connect(
        directory / f"floor{'-logged' if logged else ''}.sqlite", isolation_level=None
    )
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA wal_autocheckpoint=10000")  # as the server's connections
    conn.execute(
        "CREATE TABLE record (id TEXT PRIMARY KEY, occurred_at TEXT, kind TEXT, summary TEXT, "
        "follow_up TEXT, place TEXT, people_count INTEGER, duration_minutes INTEGER, "
        "publicised_at TEXT, contact_role TEXT, contact_org TEXT, public INTEGER, data TEXT)"
    )
    if logged:
        conn.execute(
            "CREATE TABLE change (id INTEGER PRIMARY KEY, record_id TEXT, hlc TEXT, "
            "status TEXT, user_id INTEGER, received_at TEXT, data TEXT)"
        )
        conn.execute("CREATE INDEX change_record_hlc ON change (record_id, hlc)")
    records_sql = (
        f"INSERT INTO record ({', '.join(FLOOR_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(FLOOR_COLUMNS))})"
    )
    changes_sql = (
        "INSERT INTO change (record_id, hlc, status, user_id, received_at, data) "
        "VALUES (?, ?, 'applied', 1, ?, ?)"
    )

    def batch(chunk: Records) -> int:
        conn.execute("BEGIN")
        conn.executemany(records_sql, floor_rows(chunk))
        if logged:
            received = datetime.now(timezone.utc).isoformat()
            conn.executemany(
                changes_sql,
                [
                    (
                        record_id,
                        f"{int(when.timestamp() * 1000):015d}-00000-bench",
                        received,
                        json.dumps({"fields": sorted(data), "values": data}),
                    )
                    for record_id, when, data in chunk
                ],
            )
        conn.execute("COMMIT")
        return len(chunk)

    run = Run()
    for start in range(0, len(records), BATCH):
        run.timed(lambda: batch(records[start : start + BATCH]), time.process_time)
    conn.close()
    return run


def postgres_floor(records: Records, url: str) -> Run:
    """The same on PostgreSQL: psycopg executemany into a plain table, one transaction per 500."""
    import psycopg

    conninfo = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as conn:
        conn.execute(
            "CREATE TABLE floor_record (id VARCHAR(36) PRIMARY KEY, occurred_at TIMESTAMPTZ, "
            "kind VARCHAR(40), summary TEXT, follow_up TEXT, place VARCHAR(200), "
            "people_count INTEGER, duration_minutes INTEGER, publicised_at TIMESTAMPTZ, "
            "contact_role VARCHAR(120), contact_org VARCHAR(120), public BOOLEAN, data JSON)"
        )
        conn.commit()
        sql = (
            f"INSERT INTO floor_record ({', '.join(FLOOR_COLUMNS)}) "
            f"VALUES ({', '.join(['%s'] * len(FLOOR_COLUMNS))})"
        )

        def batch(chunk: Records) -> int:
            with conn.cursor() as cursor:
                cursor.executemany(sql, floor_rows(chunk))
            conn.commit()
            return len(chunk)

        backend = [conn.execute("SELECT pg_backend_pid()").fetchone()[0]]
        run = Run()
        for start in range(0, len(records), BATCH):
            run.timed(
                lambda: batch(records[start : start + BATCH]),
                time.process_time,
                lambda: process_cpu(backend),
            )
    return run


# --- through the server ---------------------------------------------------------------------


def push_all(server: Server, http: requests.Session, device_id: str, changes: list[dict]) -> Run:
    """Push in batches of 500; each body is encoded before its clock starts (the phone's cost)."""
    url = f"{server.url}/api/v1/sync/push"
    headers = {"Content-Type": "application/json"}

    def push(chunk: str) -> int:
        envelope = json.dumps(
            {
                "device_id": device_id,
                "batch_id": uuid.uuid4().hex,
                "pending": 0,
                "app_version": "bench",
                "device_now": datetime.now(timezone.utc).isoformat(),
            }
        )
        response = http.post(
            url, data=envelope[:-1] + ', "changes": ' + chunk + "}", headers=headers
        )
        if response.status_code != 200:
            raise RuntimeError(f"push failed: {response.status_code} {response.text[:500]}")
        results = response.json()["results"]
        if {r["status"] for r in results} != {"applied"}:
            raise RuntimeError(f"push did not apply every change: {results[:3]}")
        return len(results)

    run = Run()
    for chunk in [json.dumps(changes[i : i + BATCH]) for i in range(0, len(changes), BATCH)]:
        run.timed(lambda: push(chunk), server.cpu, server.database_cpu)
    return run


def pull_all(server: Server, http: requests.Session, expected: int) -> Run:
    url = f"{server.url}/api/v1/sync/pull"
    state = {"cursor": "", "more": True}

    def pull() -> int:
        response = http.get(url, params={"since": state["cursor"], "limit": PULL_LIMIT})
        response.raise_for_status()
        body = response.json()
        state.update(cursor=body["cursor"], more=body["more"])
        return len(body["changes"])

    run = Run()
    while state["more"]:
        run.timed(pull, server.cpu, server.database_cpu)
    if run.records != expected:
        raise RuntimeError(f"pulled {run.records} records, pushed {expected}")
    return run


def server_round(database_url: str, records: Records, workdir: Path) -> tuple[Run, Run]:
    with running_server(database_url, workdir) as server, requests.Session() as http:
        device_id = server.sign_in(http)
        pushed = push_all(server, http, device_id, changes_for(records, device_id))
        pulled = pull_all(server, http, len(records))
    return pushed, pulled


# --- rounds and the report ------------------------------------------------------------------


def _spread(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def summarise(runs: list[Run]) -> dict:
    rate, p50, p95 = (
        _spread([r.rate for r in runs]),
        _spread([percentile(r.batch_ms, 50) for r in runs]),
        _spread([percentile(r.batch_ms, 95) for r in runs]),
    )
    return {
        "rate": rate[0],
        "rate_min": rate[1],
        "rate_max": rate[2],
        "p50_ms": p50[0],
        "p95_ms": p95[0],
        "p95_min": p95[1],
        "p95_max": p95[2],
        "cpu_rate": statistics.median([r.cpu_rate for r in runs]),
        "cpu_p50_ms": statistics.median([percentile(r.cpu_ms, 50) for r in runs]),
        "cpu_p95_ms": statistics.median([percentile(r.cpu_ms, 95) for r in runs]),
        "db_cpu_p50_ms": statistics.median([percentile(r.db_cpu_ms, 50) for r in runs]),
        "rounds": len(runs),
        "records": runs[0].records if runs else 0,
    }


def bench_database(kind: str, records: Records, rounds: int, workdir: Path) -> dict:
    floors, logged, pushes, pulls = [], [], [], []
    for n in range(rounds):
        directory = workdir / f"{kind}-{n}"
        directory.mkdir()
        if kind == "sqlite":
            floors.append(sqlite_floor(records, directory))
            logged.append(sqlite_floor(records, directory, logged=True))
            pushed, pulled = server_round(
                f"sqlite:///{directory / 'beatbook.sqlite'}", records, directory
            )
        else:
            with temporary_postgres() as url:
                floors.append(postgres_floor(records, url))
                pushed, pulled = server_round(url, records, directory)
        pushes.append(pushed)
        pulls.append(pulled)
        print(
            f"  {kind} round {n + 1}/{rounds}: floor {floors[-1].rate:,.0f}/s, "
            f"push {pushed.rate:,.0f}/s (p95 {percentile(pushed.batch_ms, 95):.0f} ms, "
            f"CPU p50 {percentile(pushed.cpu_ms, 50):.0f}"
            f"+{percentile(pushed.db_cpu_ms, 50):.0f} ms), "
            f"pull {pulled.rate:,.0f}/s",
            file=sys.stderr,
            flush=True,
        )
    # Ratios per round (push and floor measured side by side), then their median.
    ratios = [p.rate / f.rate for p, f in zip(pushes, floors)]
    cpu_ratios = [p.cpu_rate / f.cpu_rate for p, f in zip(pushes, floors) if f.cpu_rate]
    return {
        "floor": summarise(floors),
        "push": summarise(pushes),
        "pull": summarise(pulls),
        "ratio": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "cpu_ratio": statistics.median(cpu_ratios) if cpu_ratios else None,
        "logged": summarise(logged) if logged else None,
        "logged_ratio": statistics.median([g.rate / f.rate for g, f in zip(logged, floors)])
        if logged
        else None,
    }


def report(results: dict[str, dict], records: int, rounds: int) -> str:
    load = os.getloadavg()
    lines = [
        f"Sync bench: {records:,} records in batches of {BATCH} over HTTP (gunicorn, 2 workers), "
        f"median of {rounds} round(s) [min-max]; load average {load[0]:.1f} on "
        f"{os.cpu_count()} cores. CPU per request: the application's (+ PostgreSQL's).",
        f"{'':<28}{'records/s [min-max]':>24}{'p50 ms':>8}{'p95 ms [min-max]':>18}"
        f"{'CPU p50 ms':>12}{'vs floor':>18}{'CPU vs floor':>14}",
    ]

    def row(label: str, s: dict, ratio: str = "", cpu_ratio: str = "") -> str:
        rate = f"{s['rate']:,.0f} [{s['rate_min']:,.0f}-{s['rate_max']:,.0f}]"
        p95 = f"{s['p95_ms']:.0f} [{s['p95_min']:.0f}-{s['p95_max']:.0f}]"
        cpu = f"{s['cpu_p50_ms']:.0f}" + (
            f"+{s['db_cpu_p50_ms']:.0f}" if label.startswith("P") else ""
        )
        return (
            f"{label:<28}{rate:>24}{s['p50_ms']:>8.0f}{p95:>18}{cpu:>12}{ratio:>18}{cpu_ratio:>14}"
        )

    for kind, r in results.items():
        name = "SQLite" if kind == "sqlite" else "PostgreSQL"
        ratio = f"{r['ratio']:.2f} [{r['ratio_min']:.2f}-{r['ratio_max']:.2f}]"
        cpu_ratio = f"{r['cpu_ratio']:.2f}" if r["cpu_ratio"] is not None else "-"
        lines.append(row(f"{name} raw floor", r["floor"]))
        if r.get("logged"):
            lines.append(row(f"{name} floor + change log", r["logged"], f"{r['logged_ratio']:.2f}"))
        lines.append(row(f"{name} push", r["push"], ratio, cpu_ratio))
        lines.append(row(f"{name} pull ({PULL_LIMIT} a page)", r["pull"]))
    if "sqlite" in results:
        r = results["sqlite"]
        lines.append(
            f"Targets on SQLite: push >= {TARGET_RATIO:.2f} of the floor: "
            f"{'met' if r['ratio'] >= TARGET_RATIO else 'NOT met'} ({r['ratio']:.2f}); "
            f"p95 batch < {TARGET_P95_MS:.0f} ms: "
            f"{'met' if r['push']['p95_ms'] < TARGET_P95_MS else 'NOT met'} "
            f"({r['push']['p95_ms']:.0f} ms wall, {r['push']['cpu_p95_ms']:.0f} ms CPU)"
        )
        lines.append(
            f"The floor + change log row writes only what every conforming push must (a record "
            f"row and a logged change, raw sqlite3, nothing validated or merged): "
            f"{r['logged_ratio']:.2f} of the floor."
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None, *, echo: bool = True) -> dict:
    """Run the bench; print its report unless echo is False (tests.bench.run prints it once)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    env = os.environ.get
    parser.add_argument("--records", type=int, default=int(env("BENCH_SYNC_RECORDS", 20_000)))
    parser.add_argument("--rounds", type=int, default=int(env("BENCH_SYNC_ROUNDS", 3)))
    parser.add_argument(
        "--databases",
        default=env("BENCH_SYNC_DATABASES", "sqlite,postgresql"),
        help="comma-separated: sqlite, postgresql",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here as JSON")
    args = parser.parse_args(argv)

    kinds = [d.strip() for d in args.databases.split(",") if d.strip()]
    unknown = set(kinds) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown database(s): {', '.join(sorted(unknown))}")
    records = make_records(args.records)
    results: dict[str, dict] = {}
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="beatbook-bench-") as tmp:
        for kind in kinds:
            if kind == "postgresql" and not postgres_available():
                notes.append(f"PostgreSQL skipped: cannot connect to {PG_BASE}")
                continue
            results[kind] = bench_database(kind, records, args.rounds, Path(tmp))
    text = report(results, args.records, args.rounds)
    if echo:
        print("\n".join([text, *notes]))
    summary = {
        "records": args.records,
        "rounds": args.rounds,
        "results": results,
        "text": text,
        "notes": notes,
    }
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    main()
