"""Alerts on the console's first page (issue 15): a supervisor sees their teams' alerts with the
records behind them and dismisses one with a note; the dismissal is authorised on the server,
needs the CSRF token and a note, and is in the access log."""

from __future__ import annotations

import html
import re

from console_helpers import OTHER, TEAM, access_log, push_record

FIRST_PAGE = "/console/records"


def _alert_ids(page: str) -> list[str]:
    return [html.unescape(v) for v in re.findall(r'name="alert_id" value="([^"]+)"', page)]


def test_the_first_page_shows_the_teams_alerts_with_their_records(app, console, officer):
    record = push_record(officer, kind="social_media_post", occurred_at="2026-01-05T10:00:00Z")
    sarge = console("supervisor", TEAM)
    page = sarge.text(FIRST_PAGE)
    assert 'id="h-alerts"' in page
    assert "pc.one: no face-to-face contact record in 14 days" in html.unescape(page)
    assert f"/console/records/{record}" in page  # the social gap's last post
    assert any(i.startswith("team_gap:SOCIAL:") for i in _alert_ids(page))
    assert access_log(app, "list_alerts")
    # A filtered list is a search, not the first page: no panel.
    assert 'id="h-alerts"' not in sarge.text(f"{FIRST_PAGE}?kind=face_to_face")
    # Another team's supervisor sees none of this team's alerts.
    other = console("supervisor", OTHER)
    assert not [i for i in _alert_ids(other.text("/console/alerts")) if record in i]


def test_dismissing_an_alert_needs_a_note_and_the_team(app, console, officer):
    sarge = console("supervisor", TEAM)
    alert_id = next(i for i in _alert_ids(sarge.text(FIRST_PAGE)) if i.startswith("officer_gap"))
    url = f"/console/alerts/{TEAM}/dismiss"
    # No note: refused, nothing written.
    response = sarge.post(url, {"alert_id": alert_id, "note": "  "})
    assert response.status_code == 303
    assert "Say in a note why" in html.unescape(sarge.text(FIRST_PAGE))
    assert not access_log(app, "alert_dismiss")
    # Without the CSRF token: refused.
    bare = sarge.client.post(url, data={"alert_id": alert_id, "note": "On leave"})
    assert bare.status_code == 400
    # Another team's supervisor, and the panel: refused.
    assert (
        console("supervisor", OTHER).post(url, {"alert_id": alert_id, "note": "x"}).status_code
        == 403
    )
    panel = console("panel", None)
    assert panel.post(url, {"alert_id": alert_id, "note": "x"}).status_code == 403
    assert console("supervisor", TEAM).post("/console/alerts/NOPE/dismiss", {}).status_code == 404
    # An id that is no alert now: a plain message.
    sarge.post(url, {"alert_id": "officer_gap:F2F:0:nothing", "note": "x"})
    assert "no longer raised" in html.unescape(sarge.text(FIRST_PAGE))
    # Dismissed with a note: gone from the page and the phone, logged with the note.
    response = sarge.post(url, {"alert_id": alert_id, "note": "On leave until January"})
    assert response.status_code == 303
    assert alert_id not in _alert_ids(sarge.text(FIRST_PAGE))
    (entry,) = access_log(app, "alert_dismiss")
    assert entry.target_id == alert_id[:80] and entry.detail["note"] == "On leave until January"
    pulled = officer.pull().get_json()
    assert alert_id not in {a["id"] for a in pulled["alerts"]}
    again = sarge.post(url, {"alert_id": alert_id, "note": "Again", "back": "alerts"})
    assert again.headers["Location"].endswith("/console/alerts")


def test_a_phone_pulls_its_officers_alerts_and_the_pull_logs_them(app, officer, other_officer):
    body = officer.pull().get_json()
    assert body["more"] is False and body["alerts"]
    assert {a["team"] for a in body["alerts"]} == {TEAM}
    assert all(a["officer_id"] in (None, officer.user["id"]) for a in body["alerts"])
    assert set(body["alerts"][0]) == {
        "id",
        "rule",
        "standard",
        "team",
        "title",
        "detail",
        "officer_id",
        "record_ids",
        "due",
    }
    (entry,) = [e for e in access_log(app, "pull") if e.device_id == officer.device_id]
    assert entry.detail["alerts"] == [a["id"] for a in body["alerts"]]
