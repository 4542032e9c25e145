"""The long forms of the fault runs, with one table at the end (`make soak`).

Crash safety (tests/faults/crash.py) for --crash-rounds kills, and a shift syncing at once
(tests/faults/shift.py) for --shift-seconds, each on SQLite and on PostgreSQL (a throwaway
database on BEATBOOK_TEST_DATABASE_URL's server). Exits 1 if any run found a problem.

    .venv/bin/python -m tests.faults.soak --crash-rounds 100 --shift-seconds 300
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.bench.sync_server import PG_BASE, temporary_postgres  # noqa: E402
from tests.faults import shift  # noqa: E402
from tests.faults.crash import Run  # noqa: E402

COLUMNS = ("run", "database", "faults", "records sent", "lost", "dup.", "errors", "p50/p95/p99 ms")


def _crash(database: str, rounds: int, pg_base: str) -> tuple[list, list[str]]:
    with tempfile.TemporaryDirectory(prefix="beatbook-soak-") as tmp:
        if database == "postgresql":
            with temporary_postgres(pg_base) as url:
                tally = Run(url, Path(tmp), rounds).run()
        else:
            tally = Run(f"sqlite:///{Path(tmp) / 'crash.sqlite'}", Path(tmp), rounds).run()
    print(tally.summary(), flush=True)
    row = [
        "crash (500-change batches)",
        database,
        f"{tally.kills} SIGKILL ({tally.committed_unanswered} after commit)",
        f"{tally.changes} changes",
        tally.lost,
        tally.duplicated,
        tally.errors + tally.wrong,
        "/".join(f"{tally.percentile(p):.0f}" for p in (50, 95, 99)),
    ]
    return row, tally.problems


def _shift(database: str, seconds: int, pg_base: str) -> tuple[list, list[str]]:
    os.environ["BENCH_PG_URL"] = pg_base
    summary = shift.main(["--database", database, "--seconds", str(seconds)])
    t = summary["total"]
    bad = sum(
        n
        for name, counts in summary["answers"].items()
        for status, n in counts.items()
        if str(status) != {"sign in": "201", "sign out": "204"}.get(name, "200")
    )
    row = [
        f"shift ({summary['users']} phones, {seconds} s, {t['rps']:.0f} req/s)",
        f"{database} ({summary['workers']} workers)",
        "-",
        f"{summary['applied']} changes",
        summary["missing"],
        summary["results"].get("duplicate", 0),
        bad,
        f"{t['p50']:.0f}/{t['p95']:.0f}/{t['p99']:.0f}",
    ]
    return row, shift.problems(summary)


def table(rows: list[list]) -> str:
    cells = [list(COLUMNS), *[[str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(COLUMNS))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--crash-rounds", type=int, default=100)
    parser.add_argument("--shift-seconds", type=int, default=300)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    pg_base = os.environ.get("BEATBOOK_TEST_DATABASE_URL", PG_BASE)
    load = os.getloadavg()
    rows, problems = [], []
    for database in args.databases.split(","):
        for run in (_crash, _shift):
            amount = args.crash_rounds if run is _crash else args.shift_seconds
            row, found = run(database, amount, pg_base)
            rows.append(row)
            problems += [f"{row[0]} on {database}: {p}" for p in found]
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    after = os.getloadavg()
    print(
        f"\nmake soak, {when}; {os.cpu_count()} cores, load average {load[0]:.1f} at the "
        f"start, {after[0]:.1f} at the end (15 min: {after[2]:.1f})"
    )
    print(table(rows))
    for problem in problems:
        print("PROBLEM:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
