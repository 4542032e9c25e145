"""The alerts a pull carries: worked out at most every PHONE_ALERTS_TTL per team, so a shift's
pulls do not queue behind the pushes; left out, not failed, when the database is too busy."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy.exc

from server.alerts import visible


def test_a_pull_reuses_the_teams_alerts_for_a_while(app, device, monkeypatch):
    calls = []
    real = visible.team_alerts
    monkeypatch.setattr(
        visible, "team_alerts", lambda teams, now: calls.append(now) or real(teams, now)
    )
    first = device.pull().get_json()["alerts"]
    again = device.pull().get_json()["alerts"]
    assert first == again and len(calls) == 1
    later = visible.utcnow() + visible.PHONE_ALERTS_TTL + timedelta(seconds=1)
    monkeypatch.setattr(visible, "utcnow", lambda: later)
    device.pull()
    assert len(calls) == 2


class _Canceled(Exception):
    sqlstate = "57014"  # PostgreSQL's statement timeout, as psycopg reports it


@pytest.mark.parametrize(
    "error, a_wait",
    [
        (Exception("database is locked"), True),
        (_Canceled("canceling statement due to statement timeout"), True),
        (Exception("disk I/O error"), False),
    ],
)
def test_a_busy_database_leaves_the_alerts_out_and_the_pull_answers(
    app, device, monkeypatch, caplog, error, a_wait
):
    def busy(teams, now):
        raise sqlalchemy.exc.OperationalError("SELECT ...", {}, error)

    monkeypatch.setattr(visible, "team_alerts", busy)
    response = device.pull()
    assert response.status_code == 200
    body = response.get_json()
    assert body["more"] is False and "alerts" not in body
    # A wait is one line, not a traceback that reads like a failure; a fault keeps its traceback.
    (record,) = [r for r in caplog.records if "alerts left out" in r.getMessage()]
    assert (record.exc_info is None) is a_wait
    assert "database is locked" not in record.getMessage()
