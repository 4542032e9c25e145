"""Crash safety (tests/faults/crash.py): SIGKILL to the server's process group mid-batch.

BEATBOOK_CRASH_ROUNDS sets the kills (5 here; `make soak` runs 100)."""

from __future__ import annotations

import os

from tests.bench.sync_server import temporary_postgres
from tests.faults.crash import Run

ROUNDS = int(os.environ.get("BEATBOOK_CRASH_ROUNDS", "5"))


def test_nothing_is_lost_or_doubled_when_the_server_is_killed(tmp_path):
    base = os.environ.get("BEATBOOK_TEST_DATABASE_URL")
    if base:
        with temporary_postgres(base) as url:
            tally = Run(url, tmp_path, ROUNDS).run()
    else:
        tally = Run(f"sqlite:///{tmp_path / 'crash.sqlite'}", tmp_path, ROUNDS).run()
    print(tally.summary())
    assert tally.problems == []
    assert tally.kills == ROUNDS and tally.records > 0
    assert (tally.lost, tally.duplicated, tally.wrong, tally.errors) == (0, 0, 0, 0)
