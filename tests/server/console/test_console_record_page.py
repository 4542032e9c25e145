"""The record page: every field, officer and device, history, conflicts, deleted records."""

from __future__ import annotations

import re

import pytest
from console_helpers import (
    Console,
    access_log,
    edit_record,
    make_conflict,
    push_record,
)
from helpers import DeviceClient, create_change


def test_every_field_officer_device_and_coordinates(app, console, officer):
    record_id = push_record(
        officer,
        kind="key_contact",
        standards=["KCL", "F2F"],
        groups=["faith_groups"],
        place="Central Mosque, King St",
        location={"lat": 50.6123456, "lon": -2.4567, "accuracy_m": 8},
        duration_minutes=25,
        people_count=4,
        summary="Met the imam about Ramadan patrols",
        follow_up="Visit again after Eid",
        contact_role="Imam",
        contact_org="Central Mosque",
        public=True,
    )
    html = console("supervisor").text(f"/console/records/{record_id}")
    for text in (
        "Key community leader contact",
        "Key community leaders",
        "Face-to-face contact",
        "Central Mosque, King St",
        "50.61235, -2.45670",
        "(±8 m)",
        "25",
        "Faith",
        "Met the imam about Ramadan patrols",
        "Visit again after Eid",
        "Imam",
        "Shared on the team&#39;s public page",
        "Yes",
        officer.user["display_name"],
        "Pixel of pc.one",
        officer.device_id,
        "NPT-ONE",
        record_id,
    ):
        assert text in html, text
    assert 'href="geo:50.6123456,-2.4567"' in html
    # coordinates only: no map tiles or other sites
    assert "tile" not in html.lower() and "https://" not in html


def test_history_lists_every_change_with_who_when_and_device(app, client, console, officer):
    record_id = push_record(officer, summary="First version")
    second_phone = DeviceClient(client, "pc.one", "Old iPhone")
    assert (
        edit_record(second_phone, record_id, 1, summary="Second version", people_count=9)["status"]
        == "applied"
    )
    html = console("supervisor").text(f"/console/records/{record_id}")
    history = html[html.index("<h2>History</h2>") :]
    assert history.index("First version") < history.index("Second version")
    assert "Pixel of pc.one" in history and "Old iPhone" in history
    assert "People engaged:</strong> 9" in history
    assert "phone clock" in history and "(version 2)" in history
    assert ">Recorded</span>" in history and ">Edited</span>" in history
    assert "App record version" not in html  # the app's bookkeeping, not evidence


def test_history_shows_when_a_change_was_made_on_the_phone_not_only_when_it_arrived(
    app, console, officer
):
    import time

    from server.web.timefmt import format_ms

    made = int(time.time() * 1000) - 3 * 3600 * 1000  # recorded offline three hours ago
    change = create_change(officer, summary="Logged with no signal")
    change["hlc"] = officer.stamp(made)
    assert officer.push([change]).get_json()["results"][0]["status"] == "applied"
    html = console("supervisor").text(f"/console/records/{change['id']}")
    history = html[html.index("<h2>History</h2>") :]
    with app.app_context():
        assert f'made on the phone <span class="nowrap">{format_ms(made)}</span>' in history
    assert "phone clock at sync" in history


def test_open_conflict_shows_both_values_side_by_side(app, client, console, officer):
    other_phone = DeviceClient(client, "pc.one", "Second phone")
    record_id, _ = make_conflict(app, officer, other_phone)
    html = console("supervisor").text(f"/console/records/{record_id}")
    conflicts = html[html.index("Open conflicts") : html.index("<h2>History</h2>")]
    conflicts = re.sub(r"</?mark[^>]*>", "", conflicts)  # the words that differ are marked
    assert "First phone&#39;s summary" in conflicts and "Second phone&#39;s summary" in conflicts
    assert "Keep: In the record now" in conflicts and "Keep: The other change" in conflicts
    assert "Pixel of pc.one" in conflicts and "Second phone" in conflicts
    assert "1 open conflict" in html


def test_deleted_record_shows_as_deleted_without_review_form(app, console, officer):
    record_id = push_record(officer, summary="Made by mistake")
    officer.push(
        [{"id": record_id, "op": "delete", "hlc": officer.stamp(), "base_rev": 1, "data": {}}]
    )
    html = console("supervisor").text(f"/console/records/{record_id}")
    assert "This record was deleted" in html and "badge-deleted" in html
    assert "Made by mistake" in html  # the tombstone keeps the fields
    assert "Return to officer" not in html
    assert "Deleted</span>" in html


def test_other_teams_record_is_404_and_unknown_id_is_404(app, console, other_officer):
    theirs = push_record(other_officer)
    person = console("supervisor")
    assert person.get(f"/console/records/{theirs}").status_code == 404
    response = person.get("/console/records/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True)


def test_viewing_a_record_is_logged(app, console, officer):
    record_id = push_record(officer)
    person = console("supervisor")
    person.text(f"/console/records/{record_id}")
    person.text(f"/console/records/{record_id}")
    views = access_log(app, "view_record")
    assert [(v.target_type, v.target_id) for v in views] == [("record", record_id)] * 2
    assert views[0].user_id is not None and views[0].address == "127.0.0.1"


def test_a_404_view_is_not_logged_as_seen(app, console, other_officer):
    theirs = push_record(other_officer)
    console("supervisor").get(f"/console/records/{theirs}")
    assert access_log(app, "view_record") == []


@pytest.mark.parametrize(
    "field, value",
    [
        ("summary", "<script>alert(1)</script>"),
        ("follow_up", "<img src=x onerror=alert(1)>"),
        ("place", '"><svg onload=alert(1)>'),
        ("contact_org", "<iframe src=//evil>"),
    ],
)
def test_user_text_is_escaped_on_the_record_page(app, console, officer, field, value):
    fields = {field: value}
    if field == "contact_org":
        fields.update(kind="key_contact", contact_role="Chair")
    record_id = push_record(officer, **fields)
    html = console("supervisor").text(f"/console/records/{record_id}")
    assert value not in html
    assert (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")
        in html
    )


def test_review_comment_is_escaped(app, console, officer):
    record_id = push_record(officer)
    person = console("supervisor")
    person.post(
        f"/console/records/{record_id}/review",
        {"state": "returned", "comment": "<script>bad()</script>"},
    )
    html = person.text(f"/console/records/{record_id}")
    assert "<script>bad()" not in html and "&lt;script&gt;bad()&lt;/script&gt;" in html


def test_admin_sees_any_teams_record(app, console, other_officer):
    theirs = push_record(other_officer, summary="Bravo's record")
    assert "Bravo&#39;s record" in console("admin", None).text(f"/console/records/{theirs}")


def test_record_page_for_panel_is_403_even_by_direct_link(app, console, officer):
    record_id = push_record(officer, summary="Private words")
    response = console("panel", None).get(f"/console/records/{record_id}")
    assert response.status_code == 403
    assert "Private words" not in response.get_data(as_text=True)
    assert access_log(app, "view_record") == []


def test_console_pages_link_nothing_outside(app, console, officer):
    record_id = push_record(officer)
    person: Console = console("admin", None)
    for url in ("/console/records", f"/console/records/{record_id}", "/console/teams"):
        html = person.text(url)
        assert "http://" not in html and "https://" not in html
