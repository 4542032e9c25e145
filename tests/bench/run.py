"""`make bench`: the sync bench, then every other bench in tests/bench/, then one summary.

    .venv/bin/python -m tests.bench.run                      # everything, default sizes
    .venv/bin/python -m tests.bench.run --only sync          # just the sync bench
    BENCH_SYNC_RECORDS=5000 BENCH_SYNC_ROUNDS=1 BENCH_RECORDS=1000000 \
        .venv/bin/python -m tests.bench.run

The sync bench runs in this process (its flags come from BENCH_SYNC_* variables). The others
(`bench_console.py`, `bench_assessment.py`, when present) run as `python -m tests.bench.<name>`
with `--records $BENCH_RECORDS` (100,000 unless set: their own default, a million, takes long
to seed) and any further flags in BENCH_CONSOLE_ARGS / BENCH_ASSESSMENT_ARGS. Their standard
output, which is their report, is shown as it comes and repeated in the summary.
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

OTHERS = ("console", "assessment")  # tests/bench/bench_<name>.py, run in this order if present
DEFAULT_RECORDS = 100_000


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
        summary = bench_sync.main([])
    except Exception as exc:  # noqa: BLE001 - one failed bench must not hide the others
        return Outcome("sync", time.perf_counter() - started, False, f"failed: {exc!r}")
    text = "\n".join([summary["text"], *summary["notes"]])
    return Outcome("sync", time.perf_counter() - started, True, text)


def run_module(name: str) -> Outcome:
    """Run tests/bench/bench_<name>.py as a module, echoing its output and keeping its stdout."""
    started = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    args = ["--records", os.environ.get("BENCH_RECORDS", str(DEFAULT_RECORDS)),
            *shlex.split(os.environ.get(f"BENCH_{name.upper()}_ARGS", ""))]
    print(f"   python -m tests.bench.bench_{name} {shlex.join(args)}", file=sys.stderr, flush=True)
    process = subprocess.Popen(
        [sys.executable, "-m", f"tests.bench.bench_{name}", *args], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, text=True,
    )
    lines = []
    assert process.stdout is not None
    for line in process.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        lines.append(line.rstrip("\n"))
    code = process.wait()
    text = "\n".join(lines) if code == 0 else "\n".join([*lines[-20:], f"failed: exit {code}"])
    return Outcome(name, time.perf_counter() - started, code == 0, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated benches to run, e.g. sync,console")
    args = parser.parse_args(argv)
    wanted = {n.strip() for n in args.only.split(",")} if args.only else None
    here = ROOT / "tests" / "bench"
    available = ["sync"] + [n for n in OTHERS if (here / f"bench_{n}.py").exists()]
    if wanted is not None:
        unknown = wanted - set(available)
        if unknown:
            parser.error(f"no such bench: {', '.join(sorted(unknown))} "
                         f"(have {', '.join(available)})")
        available = [n for n in available if n in wanted]

    outcomes = []
    for name in available:
        print(f"== bench: {name}", file=sys.stderr, flush=True)
        outcomes.append(run_sync() if name == "sync" else run_module(name))

    print("\n" + "=" * 30 + " bench summary " + "=" * 30)
    for outcome in outcomes:
        state = "ok" if outcome.ok else "FAILED"
        print(f"\n-- {outcome.name} ({state}, {outcome.seconds:.0f} s)")
        print(outcome.text)
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
