"""`make bench`: the sync bench, then every other bench in tests/bench/, then one summary.

    .venv/bin/python -m tests.bench.run                      # everything, default sizes
    .venv/bin/python -m tests.bench.run --only sync          # just the sync bench
    BENCH_SYNC_RECORDS=5000 BENCH_SYNC_ROUNDS=1 BENCH_RECORDS=1000000 \
        .venv/bin/python -m tests.bench.run

The sync bench runs in this process (its flags come from BENCH_SYNC_* variables; it measures
PostgreSQL too when it can reach BENCH_PG_URL), then the peers bench (`bench_peers.py`:
Beatbook against pouchdb-server on the same records, 1 and 8 devices, and PostgreSQL's worker
scaling; same BENCH_SYNC_RECORDS and BENCH_SYNC_ROUNDS). The others (`bench_console.py`,
`bench_assessment.py`, `bench_pwa.py`: the phone's encrypted queue in Chromium, its flags in
BENCH_PWA_ARGS, e.g. "--runs 30 --baseline <rev>"), when present, run as
`python -m tests.bench.<name>` with
`--records $BENCH_RECORDS` (100,000 unless set: their own default and the size their targets are
for, a million, takes long to seed) and any further flags in BENCH_CONSOLE_ARGS /
BENCH_ASSESSMENT_ARGS; they measure SQLite, and PostgreSQL too (a database of their own on
BENCH_PG_URL, dropped afterwards) when BENCH_POSTGRES=1. Their progress (standard error) is shown
as it comes; their report (standard output) is printed once, in the summary.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

OTHERS = ("console", "assessment", "pwa")  # tests/bench/bench_<name>.py, in this order if present
DEFAULT_RECORDS = 100_000
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@dataclass
class Outcome:
    name: str
    seconds: float
    ok: bool
    text: str


def run_sync() -> Outcome:
    from tests.bench import bench_sync

    started = time.perf_counter()
    try:
        summary = bench_sync.main([], echo=False)  # its report is printed once, in the summary
    except Exception as exc:  # noqa: BLE001 - one failed bench must not hide the others
        return Outcome("sync", time.perf_counter() - started, False, f"failed: {exc!r}")
    text = "\n".join([summary["text"], *summary["notes"]])
    return Outcome("sync", time.perf_counter() - started, True, text)


def run_peers() -> Outcome:
    from tests.bench import bench_peers

    started = time.perf_counter()
    try:
        summary = bench_peers.main([], echo=False)
    except Exception as exc:  # noqa: BLE001 - one failed bench must not hide the others
        return Outcome("peers", time.perf_counter() - started, False, f"failed: {exc!r}")
    return Outcome("peers", time.perf_counter() - started, True, summary["text"])


def module_runs(name: str) -> list[tuple[str, list[str]]]:
    """(label, extra flags) for each run of bench_<name>: SQLite, and PostgreSQL if asked."""
    postgres = os.environ.get("BENCH_POSTGRES") == "1"
    if name == "assessment":  # measures both databases in one run, into one table
        return [(name, ["--postgres", PG_URL] if postgres else [])]
    if name == "pwa":  # the phone's own store: no server database to measure
        return [(name, [])]
    return [(name, [])] + ([(f"{name} on PostgreSQL", ["--postgres", PG_URL])] if postgres else [])


def run_module(name: str, label: str, extra: list[str]) -> Outcome:
    """Run tests/bench/bench_<name>.py as a module; its stderr shows, its stdout is kept."""
    started = time.perf_counter()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
        ),
    }
    args = [
        "--records",
        os.environ.get("BENCH_RECORDS", str(DEFAULT_RECORDS)),
        *extra,
        *shlex.split(os.environ.get(f"BENCH_{name.upper()}_ARGS", "")),
    ]
    print(
        f"   python -m tests.bench.bench_{name} {shlex.join(args)} (report in the summary)",
        file=sys.stderr,
        flush=True,
    )
    process = subprocess.run(
        [sys.executable, "-m", f"tests.bench.bench_{name}", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    lines = process.stdout.splitlines()
    code = process.returncode
    text = "\n".join(lines) if code == 0 else "\n".join([*lines[-20:], f"failed: exit {code}"])
    return Outcome(label, time.perf_counter() - started, code == 0, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated benches to run, e.g. sync,console")
    args = parser.parse_args(argv)
    wanted = {n.strip() for n in args.only.split(",")} if args.only else None
    here = ROOT / "tests" / "bench"
    available = ["sync", "peers"] + [n for n in OTHERS if (here / f"bench_{n}.py").exists()]
    if wanted is not None:
        unknown = wanted - set(available)
        if unknown:
            parser.error(
                f"no such bench: {', '.join(sorted(unknown))} (have {', '.join(available)})"
            )
        available = [n for n in available if n in wanted]

    outcomes = []
    for name in available:
        print(f"== bench: {name}", file=sys.stderr, flush=True)
        if name == "sync":
            outcomes.append(run_sync())
        elif name == "peers":
            outcomes.append(run_peers())
        else:
            outcomes += [run_module(name, label, extra) for label, extra in module_runs(name)]

    print("\n" + "=" * 30 + " bench summary " + "=" * 30)
    for outcome in outcomes:
        state = "ok" if outcome.ok else "FAILED"
        print(f"\n-- {outcome.name} ({state}, {outcome.seconds:.0f} s)")
        print(outcome.text)
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
