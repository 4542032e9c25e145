"""`make bench`, peers part: Beatbook against pouchdb-server on the same records and batches.

Each round, in turn (round-robin, so a busy spell of this shared machine falls on both), a fresh
store for each run: Beatbook (`beatbook serve`, 2 workers, SQLite) and pouchdb-server 4.2
(LevelDB on disk, `make bench` installs it under tests/bench/peers/, outside Beatbook's own
dependencies), each with 1 device pushing every record in batches of 500, then with 8 devices
at once (each its eighth, on its own connection). PouchDB gets the records as documents through
`_bulk_docs`; Beatbook through `/api/v1/sync/push`, validated, merged and logged. Then, when
PostgreSQL is reachable, Beatbook on PostgreSQL with 1, 2 and 4 workers and 8 devices, for the
worker scaling. Medians of the rounds; ratios are Beatbook / PouchDB per round, then their
median. The load average is printed beside them: this 2-core machine is shared.

    .venv/bin/python -m tests.bench.bench_peers --records 20000 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.bench.bench_sync import BATCH, Records, changes_for, make_records, percentile  # noqa: E402
from tests.bench.sync_server import (  # noqa: E402
    _free_port,
    postgres_available,
    running_server,
    temporary_postgres,
)

PEERS = ROOT / "tests" / "bench" / "peers"
POUCHDB = Path(
    os.environ.get("BENCH_POUCHDB") or PEERS / "node_modules" / ".bin" / "pouchdb-server"
)
DEVICES = (1, 8)
PG_WORKERS = (1, 2, 4)
# Targets from issue 12, on SQLite.
TARGET_ONE, TARGET_EIGHT, TARGET_P95_MS = 1.0, 1.5, 150.0


def pushed_at_once(
    bodies: list[list[str]],
    post: Callable[[requests.Session, str], None],
    sessions: list[requests.Session],
) -> tuple[float, list[float]]:
    """Each device posts its bodies in order on its own connection, all devices at once.
    Returns the wall seconds and every batch's milliseconds."""
    times: list[float] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def device(n: int) -> None:
        try:
            for body in bodies[n]:
                t0 = time.perf_counter()
                post(sessions[n], body)
                with lock:
                    times.append((time.perf_counter() - t0) * 1000)
        except BaseException as exc:  # noqa: BLE001 - reported after the join
            errors.append(exc)

    threads = [threading.Thread(target=device, args=(n,)) for n in range(len(bodies))]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - started, times


def _shares(items: list, devices: int) -> list[list]:
    """Consecutive shares, one per device, as each phone's own outbox."""
    size = -(-len(items) // devices)
    return [items[i : i + size] for i in range(0, len(items), size)]


def beatbook_run(
    database_url: str, records: Records, devices: int, workdir: Path, workers: int = 2
) -> dict:
    with running_server(database_url, workdir, workers=workers) as server:
        sessions = [requests.Session() for _ in range(devices)]
        bodies = []
        for http, share in zip(sessions, _shares(records, devices)):
            device_id = server.sign_in(http)
            changes = changes_for(share, device_id)
            bodies.append(
                [
                    json.dumps(
                        {
                            "device_id": device_id,
                            "batch_id": uuid.uuid4().hex,
                            "pending": 0,
                            "app_version": "bench",
                            "device_now": datetime.now(timezone.utc).isoformat(),
                            "changes": changes[i : i + BATCH],
                        }
                    )
                    for i in range(0, len(changes), BATCH)
                ]
            )
        url = f"{server.url}/api/v1/sync/push"

        def post(http: requests.Session, body: str) -> None:
            # device_now as sent: the batches go out at once, the clock is the phone's.
            try:
                response = http.post(url, data=body, headers={"Content-Type": "application/json"})
            except requests.ConnectionError as exc:
                # A kept-alive connection closed by the server as the batch went out: a phone
                # sends the same batch again, which the server answers once (idempotent).
                print(f"  (a push was sent again after: {exc})", file=sys.stderr, flush=True)
                response = http.post(url, data=body, headers={"Content-Type": "application/json"})
            if response.status_code != 200:
                raise RuntimeError(f"push failed: {response.status_code} {response.text[:300]}")
            if {r["status"] for r in response.json()["results"]} != {"applied"}:
                raise RuntimeError("push did not apply every change")

        seconds, times = pushed_at_once(bodies, post, sessions)
        for http in sessions:
            http.close()
    return {"rate": len(records) / seconds, "p95_ms": percentile(times, 95)}


@contextmanager
def running_pouchdb(workdir: Path) -> Iterator[str]:
    """pouchdb-server on a free port, LevelDB files under `workdir`, its own process group."""
    port = _free_port()
    data = workdir / f"pouchdb-{port}"
    data.mkdir()
    log = open(data / "server.log", "w")
    process = subprocess.Popen(
        [str(POUCHDB), "--port", str(port), "--dir", str(data), "--no-color"],
        cwd=data,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"pouchdb-server exited; see {log.name}")
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("pouchdb-server did not start in 60 s")
            time.sleep(0.2)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def pouchdb_run(records: Records, devices: int, workdir: Path) -> dict:
    with running_pouchdb(workdir) as url:
        requests.put(f"{url}/bench").raise_for_status()
        bodies = [
            [
                json.dumps(
                    {"docs": [{"_id": rid, **data} for rid, _, data in share[i : i + BATCH]]}
                )
                for i in range(0, len(share), BATCH)
            ]
            for share in _shares(records, devices)
        ]
        sessions = [requests.Session() for _ in range(devices)]

        def post(http: requests.Session, body: str) -> None:
            response = http.post(
                f"{url}/bench/_bulk_docs", data=body, headers={"Content-Type": "application/json"}
            )
            if response.status_code != 201 or any("error" in r for r in response.json()):
                raise RuntimeError(
                    f"_bulk_docs failed: {response.status_code} {response.text[:300]}"
                )

        seconds, times = pushed_at_once(bodies, post, sessions)
        for http in sessions:
            http.close()
    return {"rate": len(records) / seconds, "p95_ms": percentile(times, 95)}


def bench(records: Records, rounds: int, workdir: Path, postgres: bool) -> dict:
    runs: dict[str, list[dict]] = {}
    loads: list[float] = []

    def add(label: str, run: dict) -> None:
        runs.setdefault(label, []).append(run)
        print(
            f"  {label}: {run['rate']:,.0f} rec/s, p95 {run['p95_ms']:.0f} ms",
            file=sys.stderr,
            flush=True,
        )

    for n in range(rounds):
        loads.append(os.getloadavg()[0])
        print(f"  round {n + 1}/{rounds} (load {loads[-1]:.1f})", file=sys.stderr, flush=True)
        for devices in DEVICES:
            directory = workdir / f"r{n}-d{devices}"
            directory.mkdir()
            url = f"sqlite:///{directory / 'beatbook.sqlite'}"
            add(f"beatbook-sqlite-{devices}", beatbook_run(url, records, devices, directory))
            add(f"pouchdb-{devices}", pouchdb_run(records, devices, directory))
        if postgres:
            for workers in PG_WORKERS:
                for devices in DEVICES if workers == 2 else (8,):
                    with temporary_postgres() as url:
                        add(
                            f"beatbook-pg-{devices}-w{workers}",
                            beatbook_run(
                                url, records, devices, workdir / f"r{n}-d{devices}", workers
                            ),
                        )
    return {"runs": runs, "loads": loads}


def report(result: dict, records: int, rounds: int) -> str:
    runs = result["runs"]

    def med(label: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[label])

    def ratio(label: str, peer: str) -> float:
        return statistics.median(a["rate"] / b["rate"] for a, b in zip(runs[label], runs[peer]))

    loads = result["loads"]
    lines = [
        f"Peers bench: {records:,} records in batches of {BATCH} over loopback HTTP, each run on "
        f"an empty store, round-robin, median of {rounds} round(s); load average at each round's "
        f"start {', '.join(f'{x:.1f}' for x in loads)} on {os.cpu_count()} cores.",
        f"{'':<40}{'records/s':>12}{'p95 ms':>9}{'vs PouchDB':>12}",
    ]
    for label, name in (
        ("pouchdb", "pouchdb-server 4.2 (LevelDB)"),
        ("beatbook-sqlite", "Beatbook SQLite (2 workers)"),
    ):
        for devices in DEVICES:
            key = f"{label}-{devices}"
            vs = f"{ratio(key, f'pouchdb-{devices}'):.2f}x" if label != "pouchdb" else ""
            lines.append(
                f"{name + f', {devices} device' + ('s' if devices > 1 else ''):<40}"
                f"{med(key, 'rate'):>12,.0f}{med(key, 'p95_ms'):>9.0f}{vs:>12}"
            )
    pg = [k for k in runs if k.startswith("beatbook-pg-")]
    for key in sorted(pg, key=lambda k: (int(k.split("-w")[1]), k)):
        devices, workers = key.removeprefix("beatbook-pg-").split("-w")
        lines.append(
            f"{f'Beatbook PostgreSQL ({workers} workers), {devices} dev.':<40}"
            f"{med(key, 'rate'):>12,.0f}{med(key, 'p95_ms'):>9.0f}"
            f"{ratio(key, f'pouchdb-{devices}'):>11.2f}x"
        )
    one, eight = ratio("beatbook-sqlite-1", "pouchdb-1"), ratio("beatbook-sqlite-8", "pouchdb-8")
    p95 = med("beatbook-sqlite-1", "p95_ms")
    lines.append(
        "Targets on SQLite: "
        f">= {TARGET_ONE:.1f}x PouchDB with 1 device: {'met' if one >= TARGET_ONE else 'NOT met'} "
        f"({one:.2f}x); >= {TARGET_EIGHT:.1f}x with 8: "
        f"{'met' if eight >= TARGET_EIGHT else 'NOT met'} ({eight:.2f}x); p95 < "
        f"{TARGET_P95_MS:.0f} ms with 1 device: {'met' if p95 < TARGET_P95_MS else 'NOT met'} "
        f"({p95:.0f} ms)"
    )
    return "\n".join(lines)


def available() -> str | None:
    """Why the peers bench cannot run, or None."""
    if not POUCHDB.exists():
        return f"pouchdb-server is not installed at {POUCHDB} (make bench installs it)"
    if shutil.which("node") is None:
        return "node is not on PATH"
    return None


def main(argv: list[str] | None = None, *, echo: bool = True) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    env = os.environ.get
    parser.add_argument("--records", type=int, default=int(env("BENCH_SYNC_RECORDS", 20_000)))
    parser.add_argument("--rounds", type=int, default=int(env("BENCH_SYNC_ROUNDS", 3)))
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    missing = available()
    if missing:
        text = f"Peers bench skipped: {missing}"
    else:
        records = make_records(args.records)
        postgres = not args.no_postgres and postgres_available()
        with tempfile.TemporaryDirectory(prefix="beatbook-peers-") as tmp:
            result = bench(records, args.rounds, Path(tmp), postgres)
        text = report(result, args.records, args.rounds)
    if echo:
        print(text)
    return {"text": text, "notes": []}


if __name__ == "__main__":
    main()
