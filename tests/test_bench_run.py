"""`make bench` (tests/bench/run.py): each report printed once, PostgreSQL measured when asked,
the target's size said, and no seeded file left behind in the temporary folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bench import run as bench_run

REPO = Path(__file__).resolve().parents[1]
HEADER = "database    period                 what"


@pytest.mark.slow
def test_the_assessment_bench_prints_its_table_once_and_cleans_up(tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {
        **os.environ,
        "TMPDIR": str(scratch),
        "BENCH_RECORDS": "1000",
        "BENCH_ASSESSMENT_ARGS": "--runs 1 --teams 1",
    }
    env.pop("BENCH_POSTGRES", None)
    result = subprocess.run(
        [sys.executable, "-m", "tests.bench.run", "--only", "assessment"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(HEADER) == 1 and HEADER not in result.stderr
    assert "within 3x of the floor, at 1,000,000 records" in result.stdout
    assert "This run seeded 1,000" in result.stdout
    assert list(scratch.iterdir()) == []  # a million records made a 2 GB file that stayed


def test_postgres_is_measured_when_asked(monkeypatch):
    monkeypatch.delenv("BENCH_POSTGRES", raising=False)
    assert bench_run.module_runs("console") == [("console", [])]
    assert bench_run.module_runs("assessment") == [("assessment", [])]
    monkeypatch.setenv("BENCH_POSTGRES", "1")
    assert bench_run.module_runs("console") == [
        ("console", []),
        ("console on PostgreSQL", ["--postgres", bench_run.PG_URL]),
    ]
    assert bench_run.module_runs("assessment") == [("assessment", ["--postgres", bench_run.PG_URL])]
    assert bench_run.module_runs("pwa") == [("pwa", [])], "the phone's store is no server database"
