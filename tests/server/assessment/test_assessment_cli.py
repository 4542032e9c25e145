"""`beatbook assess` and `beatbook export --sqlite`."""

from __future__ import annotations

import csv
import io
import json

import pytest
import sqlite_utils

from server.db import db
from server.db.models import AccessLog


@pytest.fixture
def records(app, force):
    pc = force.officer("NPT-A", "pc.alpha")
    other = force.officer("NPT-B", "pc.bravo")
    force.add_many(
        pc,
        [
            (
                "2025-07-02 10:00",
                "community_alert",
                {"summary": "Alert about bike thefts near the station"},
            ),
            ("2025-07-20 10:00", "community_alert", {"summary": "Alert about scam phone calls"}),
            (
                "2025-08-03 10:00",
                "face_to_face",
                {"summary": "Spoke with market traders", "groups": ["businesses"]},
            ),
            ("2024-12-01 10:00", "face_to_face", {"summary": "Before the export window"}),
        ],
    )
    force.add(other, "2025-07-05 10:00", "community_alert", summary="Alert in the other team")


def test_assess_table_csv_and_json(runner, records):
    table = runner.invoke(args=["assess", "--team", "NPT-A", "--period", "2025-07"])
    assert table.exit_code == 0, table.output
    assert "July 2025" in table.output and "NPT-A" in table.output and "NPT-B" not in table.output
    assert "ALERT     G Met        2" in table.output
    rows = list(
        csv.DictReader(
            io.StringIO(
                runner.invoke(args=["assess", "--period", "2025-07", "--format", "csv"]).output
            )
        )
    )
    assert [(r["team"], r["ALERT_rating"]) for r in rows] == [
        ("NPT-A", "met"),
        ("NPT-B", "partly_met"),
    ]
    body = json.loads(
        runner.invoke(
            args=["assess", "--period", "2025-Q3", "--team", "npt-a", "--format", "json"]
        ).output
    )
    assert body["period"]["label"] == "2025-Q3" and [t["code"] for t in body["teams"]] == ["NPT-A"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--period", "2025-Q9"], "Not a period"),
        (["--team", "NPT-NONE", "--period", "2025-07"], "No active team with code NPT-NONE."),
    ],
)
def test_assess_errors_are_messages_not_tracebacks(runner, records, args, message):
    result = runner.invoke(args=["assess", *args])
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_export_sqlite(runner, records, tmp_path):
    target = tmp_path / "export.sqlite"
    result = runner.invoke(args=["export", "--sqlite", str(target), "--since", "2025-01-01"])
    assert result.exit_code == 0, result.output
    assert "4 records" in result.output
    out = sqlite_utils.Database(target)
    assert {
        "teams",
        "people",
        "records",
        "record_standards",
        "record_groups",
        "changes",
        "assessments",
        "assessment_measures",
        "grades",
    } <= set(out.table_names())
    assert "password_hash" not in out["people"].columns_dict
    found = [r["summary"] for r in out["records"].search("bike")]
    assert found == ["Alert about bike thefts near the station"]
    assert out.execute("select code from record_groups").fetchall() == [("businesses",)]
    grid = {(r["period"], r["team"]): r for r in out.query("select * from grid")}
    assert grid[("2025-07", "NPT-A")]["ALERT"] == "met"
    assert grid[("2025-Q3", "NPT-B")]["ALERT"] == "not_met"
    figures = {(r["period"], r["team"]): r for r in out.query("select * from grid_figures")}
    assert figures[("2025-07", "NPT-A")]["ALERT"] == "2"
    # Periods from the --since date onwards only: January 2025 is the first month.
    assert out.execute("select min(period) from grades where period_kind = 'month'").fetchone() == (
        "2025-01",
    )
    assert out["changes"].count >= 4
    assert db.session.query(AccessLog).filter_by(action="export.sqlite").count() == 1


def test_export_refuses_to_overwrite(runner, records, tmp_path):
    target = tmp_path / "export.sqlite"
    target.write_text("keep me")
    result = runner.invoke(args=["export", "--sqlite", str(target)])
    assert result.exit_code == 1 and "already exists" in result.output
    assert target.read_text() == "keep me"


def test_assess_an_unknown_team_says_so_plainly(runner, records):
    # The command sees every team: "that you can see" (the console's words) would mislead.
    result = runner.invoke(args=["assess", "--team", "nope"])
    assert result.exit_code != 0
    assert "No active team with code NOPE." in result.output
    assert "that you can see" not in result.output and "Traceback" not in result.output


def test_export_records_the_operator_named_by_as(runner, records, tmp_path, force):
    force.user("admin", None, "insp.export")
    result = runner.invoke(
        args=["export", "--sqlite", str(tmp_path / "a.sqlite"), "--as", "insp.export"]
    )
    assert result.exit_code == 0, result.output
    entry = db.session.query(AccessLog).filter_by(action="export.sqlite").one()
    assert entry.user is not None and entry.user.username == "insp.export"
    assert entry.detail["operator"] == "insp.export"


def test_export_without_as_records_the_os_user(runner, records, tmp_path):
    import getpass

    result = runner.invoke(args=["export", "--sqlite", str(tmp_path / "b.sqlite")])
    assert result.exit_code == 0, result.output
    entry = db.session.query(AccessLog).filter_by(action="export.sqlite").one()
    assert entry.user_id is None and entry.detail["os_user"] == getpass.getuser()


def test_export_as_an_unknown_user_writes_nothing(runner, records, tmp_path):
    target = tmp_path / "c.sqlite"
    result = runner.invoke(args=["export", "--sqlite", str(target), "--as", "nobody.here"])
    assert result.exit_code == 1 and "no active Beatbook user" in result.output
    assert not target.exists()
