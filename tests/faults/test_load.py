"""A shift syncing at once (tests/faults/shift.py, Locust headless): 200 phones, no 5xx, no
"database is locked", no deadlock, nothing the server took missing afterwards.

The short form (30 s; BEATBOOK_SHIFT_SECONDS for the 60 s CI-size one) runs with the suite, on
PostgreSQL under `make test-pg`; `make soak` runs the 5-minute one on both databases
(tests/faults/soak.py). 4 gunicorn
workers on PostgreSQL, 2 on SQLite.
"""

from __future__ import annotations

import os

from tests.faults import shift


def _run(seconds: int, monkeypatch) -> dict:
    base = os.environ.get("BEATBOOK_TEST_DATABASE_URL")
    if base:
        monkeypatch.setenv("BENCH_PG_URL", base)
    summary = shift.main(
        ["--database", "postgresql" if base else "sqlite", "--seconds", str(seconds)]
    )
    assert shift.problems(summary) == []
    return summary


def test_a_shift_syncs_at_once_without_errors(monkeypatch):
    _run(int(os.environ.get("BEATBOOK_SHIFT_SECONDS", "30")), monkeypatch)
