"""The assessment API and pages: who may see what, the JSON shapes, evidence and exports."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa
from assessment_force import PASSWORD

from server.db import db
from server.db.models import AccessLog
from server.web.assessment_access import WITHHELD

JULY = "2025-07"


@pytest.fixture
def world(app, force):
    """Two teams; A has alerts (one deleted, one returned), meetings and feedback."""
    a1, a2 = force.officer("NPT-A", "pc.alpha"), force.officer("NPT-A", "pc.bravo")
    b1 = force.officer("NPT-B", "pc.charlie")
    ids = force.add_many(
        a1,
        [
            ("2025-07-02 10:00", "community_alert", {}),
            ("2025-07-09 10:00", "community_alert", {}),
            ("2025-07-16 10:00", "community_alert", {}),
            ("2025-07-23 10:00", "community_alert", {}),
            (
                "2025-07-10 18:00",
                "community_meeting",
                {
                    "publicised_at": "2025-07-01 18:00",
                    "people_count": 14,
                    "duration_minutes": 90,
                    "groups": ["young_people"],
                },
            ),
        ],
    )
    force.add_many(
        a2,
        [
            ("2025-07-11 10:00", "face_to_face", {"people_count": 3, "duration_minutes": 30}),
            ("2025-07-12 10:00", "face_to_face", {"people_count": 5, "duration_minutes": None}),
        ],
    )
    force.add(b1, "2025-07-05 10:00", "community_alert")
    force.delete(a1, ids[2])
    force.review(ids[3], "returned")
    force.user("supervisor", "NPT-A", "sgt.alpha")
    force.user("admin", None, "insp.admin")
    force.user("panel", None, "panel.member")
    return {"counted_alerts": {ids[0], ids[1]}}


def console(client, username):
    response = client.post("/console/sign-in", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def device(client, username):
    response = client.post(
        "/api/v1/auth/device",
        json={"username": username, "password": PASSWORD, "device_name": "test"},
    )
    assert response.status_code == 201, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def test_signed_in_roles_only(client, world):
    assert (
        client.get(f"/api/v1/assessment?period={JULY}").get_json()["error"]["code"]
        == "unauthenticated"
    )
    officer = device(client, "pc.alpha")
    response = client.get(f"/api/v1/assessment?period={JULY}", headers=officer)
    assert response.status_code == 403
    assert client.get(f"/console/assessment?period={JULY}").status_code == 302  # to sign-in


def test_supervisor_sees_own_teams_only(client, world):
    headers = device(client, "sgt.alpha")
    body = client.get(f"/api/v1/assessment?period={JULY}", headers=headers).get_json()
    assert [t["code"] for t in body["teams"]] == ["NPT-A"]
    assert (
        client.get(f"/api/v1/assessment/teams/NPT-B?period={JULY}", headers=headers).status_code
        == 404
    )
    assert (
        client.get(f"/api/v1/assessment?period={JULY}&team=NPT-B", headers=headers).status_code
        == 404
    )


def test_grid_json(client, world):
    console(client, "insp.admin")
    body = client.get(f"/api/v1/assessment?period={JULY}").get_json()
    assert body["period"]["label"] == JULY and body["previous_period"]["label"] == "2025-06"
    assert [s["code"] for s in body["standards"]][:3] == ["F2F", "KCL", "SOCIAL"]
    team_a = body["teams"][0]
    alert = next(s for s in team_a["standards"] if s["code"] == "ALERT")
    # Four alerts, one deleted and one returned: 2 count, which meets 2 a month.
    assert (alert["rating"], alert["figure"], alert["colour"]) == ("met", "2", "green")
    assert alert["previous_rating"] == "not_met" and alert["change"] == "better"
    assert alert["measures"][0]["thresholds"]["per_month"] == {"met": 2, "partly_met": 1}
    assert team_a["grade"]["grade"] == "inadequate"
    assert sum(team_a["counts"].values()) == 10


@pytest.mark.parametrize(
    "period, message",
    [("2025-13", "Not a period"), ("2099-Q1", "not started"), ("2019-Q1", "no catalogue")],
)
def test_bad_periods(client, world, period, message):
    console(client, "insp.admin")
    response = client.get(f"/api/v1/assessment?period={period}")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed" and message in error["message"]
    assert "period" in error["fields"]


def test_evidence_lists_exactly_the_records_counted_and_is_logged(client, world):
    console(client, "insp.admin")
    body = client.get(f"/api/v1/assessment/teams/NPT-A/standards/ALERT?period={JULY}").get_json()
    (evidence,) = body["evidence"]
    assert {r["id"] for r in evidence["records"]} == world["counted_alerts"]
    assert evidence["total"] == 2 and all(r["officer"] == "PC.ALPHA" for r in evidence["records"])
    assert body["standard"]["description"].startswith("The team sends")
    log = db.session.scalars(
        sa.select(AccessLog).where(AccessLog.action == "assessment.evidence")
    ).all()
    assert [(row.target_id, row.detail["standard"]) for row in log] == [("NPT-A", "ALERT")]


def test_meeting_evidence_notes_notice_and_attendance(client, world):
    console(client, "insp.admin")
    body = client.get(f"/api/v1/assessment/teams/NPT-A/standards/MEET?period={JULY}").get_json()
    held, publicised, attendance = body["evidence"]
    assert held["total"] == 1
    assert publicised["records"][0]["note"] == "Publicised 9 days ahead"
    assert publicised["records"][0]["counts"] is True
    assert attendance["records"][0]["note"] == "14 people"


def test_panel_never_sees_officer_names(client, world):
    console(client, "panel.member")
    for path in (
        f"/api/v1/assessment/teams/NPT-A/standards/F2F?period={JULY}",
        f"/api/v1/assessment/teams/NPT-A/pack?period={JULY}",
        f"/console/assessment/teams/NPT-A/standards/F2F?period={JULY}",
        f"/console/assessment/teams/NPT-A/pack?period={JULY}",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        text = response.get_data(as_text=True)
        assert "PC.ALPHA" not in text and "PC.BRAVO" not in text, path
    body = client.get(f"/api/v1/assessment/teams/NPT-A/standards/F2F?period={JULY}").get_json()
    # Two face-to-face contacts by one officer; the meeting (MEET, F2F) by the other.
    assert body["evidence"][0]["breakdown"] == [
        {"label": "Officer 1", "count": 2},
        {"label": "Officer 2", "count": 1},
    ]
    assert all(r["officer"] is None for r in body["evidence"][0]["records"])
    assert body["evidence"][0]["records"][0]["summary"]  # a summary, or that it is withheld


def test_team_trend_and_pack(client, world):
    console(client, "insp.admin")
    body = client.get(f"/api/v1/assessment/teams/NPT-A?period={JULY}&periods=3").get_json()
    assert body["periods"] == ["2025-05", "2025-06", "2025-07"]
    assert [p["rating"] for p in body["trend"]["ALERT"]] == ["not_met", "not_met", "met"]
    assert [p["values"] for p in body["trend"]["ALERT"]] == [[0], [0], [2]]
    pack = client.get(f"/api/v1/assessment/teams/NPT-A/pack?period={JULY}").get_json()
    alert = next(s for s in pack["standards"] if s["code"] == "ALERT")
    assert alert["summary"].startswith("Met. Alerts sent in July 2025: 2.")
    assert len(alert["trend"]) == 12 and alert["samples"][0]["total"] == 2


def test_what_works(client, world):
    console(client, "insp.admin")
    body = client.get(f"/api/v1/assessment/what-works?period={JULY}&team=NPT-A").get_json()
    kinds = {k["kind"]: k for k in body["force"]["kinds"]}
    f2f = kinds["face_to_face"]
    assert (f2f["engagements"], f2f["people"]) == (2, 8)
    # Only the record with a duration counts for the rate: 3 people in half an hour.
    assert f2f["people_per_officer_hour"] == 6.0 and f2f["officer_hours"] == 0.5
    meeting = kinds["community_meeting"]
    assert (meeting["groups_reached"], meeting["people_per_officer_hour"]) == (
        1,
        round(14 / 1.5, 2),
    )
    assert body["force"]["seldom_heard"] == [
        {
            "group": "young_people",
            "title": "Young people",
            "engagements": 1,
            "people": 14,
            "kinds": {"community_meeting": 1},
        }
    ]
    assert [t["code"] for t in body["teams"]] == ["NPT-A"]


def test_grid_csv(client, world):
    console(client, "insp.admin")
    response = client.get(f"/console/assessment/grid.csv?period={JULY}")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["team"] for r in rows] == ["NPT-A", "NPT-B"]
    assert rows[0]["ALERT_rating"] == "met" and rows[1]["ALERT_figure"] == "1"
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(AccessLog.action == "assessment.export_csv")
        )
        == 1
    )


def test_grid_csv_has_figures_as_numbers(client, world, force):
    """Beside each figure in words, every measure as plain numbers under headers naming the unit."""
    force.team("NPT-C", '=HYPERLINK("http://x")')  # typed-in text must not become a formula
    force.team("NPT-D", "-2+3+cmd|' /C calc'!A0")
    token = device(client, "insp.admin")
    console(client, "insp.admin")
    for url, headers in (
        (f"/console/assessment/grid.csv?period={JULY}", {}),
        (f"/api/v1/assessment/grid.csv?period={JULY}", token),
    ):
        response = client.get(url, headers=headers)
        assert response.status_code == 200, url
        reader = csv.DictReader(io.StringIO(response.get_data(as_text=True)))
        rows = {r["team"]: r for r in reader}
        header = reader.fieldnames
        # F2F is per officer: 3 face-to-face-ish records over NPT-A's 2 officers, in words and
        # numbers
        a = rows["NPT-A"]
        assert a["F2F_figure"] == "1.5 per officer"
        assert (a["F2F_records_per_officer"], a["F2F_records"], a["F2F_officers"]) == (
            "1.5",
            "3",
            "2",
        )
        # MEET has three measures, numbered; its share has numerator and denominator
        assert header[header.index("MEET_change") + 1 : header.index("ALERT_rating")] == [
            "MEET_1_records",
            "MEET_2_share_publicised_fraction",
            "MEET_2_meetings_publicised",
            "MEET_2_meetings_held",
            "MEET_3_mean_people",
            "MEET_3_people",
            "MEET_3_records_with_people",
        ]
        assert (
            a["MEET_2_share_publicised_fraction"],
            a["MEET_2_meetings_publicised"],
            a["MEET_2_meetings_held"],
        ) == ("1", "1", "1")
        assert (a["MEET_3_mean_people"], a["MEET_3_people"], a["MEET_3_records_with_people"]) == (
            "14",
            "14",
            "1",
        )
        assert a["ALERT_records"] == "2" and a["SOCIAL_longest_gap_days"] == "31"
        assert a["SELDOM_figure"] == "1 group" and a["SELDOM_groups"] == "1"
        # no figure (no meetings, no key contacts, never updated): an empty cell, not a word
        b = rows["NPT-B"]
        assert b["MEET_figure"] == "0" and b["MEET_2_share_publicised_fraction"] == ""
        assert (b["MEET_2_meetings_publicised"], b["MEET_2_meetings_held"]) == ("0", "0")
        assert b["KCL_share_renewed_fraction"] == "" and b["KCL_key_contacts_known"] == "0"
        assert b["WEB_figure"] == "never" and b["WEB_days_since_last"] == ""
        # every numeric column holds a plain number or nothing
        numeric = [
            h
            for h in header[header.index("not_met") + 1 :]
            if not h.endswith(("_rating", "_figure", "_change"))
        ]
        assert len(numeric) == 20
        for row in rows.values():
            for column in numeric:
                assert row[column] == "" or float(row[column]) >= 0, (column, row[column])
        assert rows["NPT-C"]["name"] == '\'=HYPERLINK("http://x")'
        assert rows["NPT-D"]["name"].startswith("'-2+3")


def test_plain_numbers_and_safe_cells():
    from server.assessment.exports import _safe, plain

    assert [plain(v) for v in (None, 0, 3, 2.0, 108.66666666, 0.1 + 0.2, 1e-9, 12345678.5)] == [
        "",
        "0",
        "3",
        "2",
        "108.666667",
        "0.3",
        "0",
        "12345678.5",
    ]
    assert _safe(["-1.5", "12", "-1+2", "=1", "@x", "\t=1", "a-b"]) == [
        "-1.5",
        "12",
        "'-1+2",
        "'=1",
        "'@x",
        "'\t=1",
        "a-b",
    ]


def test_pages_render_for_each_role(client, world):
    for username in ("sgt.alpha", "insp.admin", "panel.member"):
        console(client, username)
        for path in (
            f"/console/assessment?period={JULY}",
            f"/console/assessment/teams/NPT-A?period={JULY}",
            f"/console/assessment/what-works?period={JULY}",
        ):
            response = client.get(path)
            assert response.status_code == 200, (username, path)
            assert "style=" not in response.get_data(as_text=True)  # the strict CSP holds
        client.post("/console/sign-out")
    console(client, "panel.member")
    assert client.get("/console/assessment/teams/NPT-A/meetings").status_code == 403


def test_openapi_documents_the_assessment_api(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    grid = paths["/api/v1/assessment"]["get"]
    assert {p["name"] for p in grid["parameters"]} == {"period", "kind", "team"}
    assert "404" in grid["responses"] and "/api/v1/assessment/teams/{code}/pack" in paths
    evidence = paths["/api/v1/assessment/teams/{code}/standards/{standard}"]["get"]
    record = evidence["responses"]["200"]["content"]["application/json"]["schema"]["properties"][
        "evidence"
    ]["items"]["properties"]["records"]["items"]["properties"]
    assert record["officer"]["nullable"] is True
    described = paths["/api/v1/assessment/grid.csv"]["get"]["description"]
    from server.assessment.exports import UNITS

    for unit, parts in UNITS.values():  # every numeric column's unit is documented
        assert all(f"_{word}" in described for word in (unit, *(parts or ()))), unit


def test_panel_reads_only_approved_summaries(app, client, world):
    from server.db.models import Record

    console(client, "panel.member")
    path = f"/api/v1/assessment/teams/NPT-A/standards/F2F?period={JULY}"
    records = client.get(path).get_json()["evidence"][0]["records"]
    assert records and all(
        r["summary"] == WITHHELD for r in records if r["review_state"] != "approved"
    )
    approved_id = records[0]["id"]
    with app.app_context():
        db.session.get(Record, approved_id).review_state = "approved"
        db.session.commit()
        summary = db.session.get(Record, approved_id).summary
    shown = {r["id"]: r["summary"] for r in client.get(path).get_json()["evidence"][0]["records"]}
    assert shown[approved_id] == summary != WITHHELD
    page = client.get(f"/console/assessment/teams/NPT-A/standards/F2F?period={JULY}")
    assert WITHHELD in page.get_data(as_text=True)


def test_panel_never_reads_an_unapproved_key_contacts_role_or_organisation(app, client, force):
    from server.db.models import Record

    officer = force.officer("NPT-A", "pc.kilo")
    (record_id,) = force.add_many(
        officer,
        [
            (
                "2025-07-08 10:00",
                "key_contact",
                {"contact_role": "Chair Zebedee", "contact_org": "Quayside Residents Xyzzy"},
            )
        ],
    )
    force.user("panel", None, "panel.kilo")
    force.user("supervisor", "NPT-A", "sgt.kilo")
    path = f"/api/v1/assessment/teams/NPT-A/standards/KCL?period={JULY}"
    page = f"/console/assessment/teams/NPT-A/standards/KCL?period={JULY}"

    def shown(username: str) -> str:
        other = app.test_client()
        console(other, username)
        return other.get(path).get_data(as_text=True) + other.get(page).get_data(as_text=True)

    assert "Zebedee" not in shown("panel.kilo") and "Xyzzy" not in shown("panel.kilo")
    assert "withheld until approved" in shown("panel.kilo")
    assert "Zebedee" in shown("sgt.kilo")  # supervisors review it, so they read it
    with app.app_context():
        db.session.get(Record, record_id).review_state = "approved"
        db.session.commit()
    assert "Chair Zebedee, Quayside Residents Xyzzy" in shown("panel.kilo")
