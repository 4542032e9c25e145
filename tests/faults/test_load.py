"""A shift syncing at once (tests/bench/load_sync.py): no 5xx, no lost answers, under load.

The short form runs with the suite; `make soak` runs the long one (200 devices, 3 minutes).
"""

from __future__ import annotations

import os

import pytest

from tests.bench import load_sync


def _run(devices: int, seconds: int, think: float, monkeypatch) -> dict:
    base = os.environ.get("BEATBOOK_TEST_DATABASE_URL")
    if base:
        monkeypatch.setenv("BENCH_PG_URL", base)
    database = "postgresql" if base else "sqlite"
    # As the fault issue runs them: 4 gunicorn workers on PostgreSQL, 2 on SQLite.
    workers = "4" if base else "2"
    return load_sync.main(
        [
            "--database",
            database,
            "--devices",
            str(devices),
            "--seconds",
            str(seconds),
            "--think",
            str(think),
            "--window",
            str(seconds),
            "--workers",
            workers,
        ]
    )


def _assert_clean(summary: dict) -> None:
    statuses = summary["statuses"]
    # No 5xx, no 4xx, every request answered (0: no answer, `failures` says why).
    assert set(statuses) == {200}, (statuses, summary["failures"])
    assert statuses[200] > 0


def test_a_small_shift_syncs_without_errors(monkeypatch):
    _assert_clean(_run(devices=30, seconds=15, think=0.5, monkeypatch=monkeypatch))


@pytest.mark.slow
def test_a_whole_shift_syncs_without_errors(monkeypatch):
    summary = _run(devices=200, seconds=180, think=2.0, monkeypatch=monkeypatch)
    _assert_clean(summary)
