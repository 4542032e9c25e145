"""Activity: records this week against last, quiet officers and devices, phones holding work."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from console_helpers import OTHER, TEAM, push_record
from helpers import DeviceClient

from server.clock import utcnow
from server.db import db
from server.db.models import Device, Record


def _ago(days: float) -> str:
    return (datetime.now(timezone.utc) - timedelta(days=days)).isoformat()


def _team_card(html: str, code: str) -> str:
    start = html.index(f"{code} · ")
    return html[start : html.index("</a>", start)]


def test_this_week_against_last_per_team(app, console, officer, other_officer):
    for days in (1, 2, 3):
        push_record(officer, occurred_at=_ago(days))
    push_record(officer, occurred_at=_ago(9))
    push_record(officer, occurred_at=_ago(20))  # older than a fortnight: in neither week
    push_record(other_officer, occurred_at=_ago(10))
    deleted = push_record(officer, occurred_at=_ago(1))
    officer.push(
        [{"id": deleted, "op": "delete", "hlc": officer.stamp(), "base_rev": 1, "data": {}}]
    )
    html = console("admin", None).text("/console/activity")
    mine = _team_card(html, TEAM)
    assert '<div class="big">3</div>' in mine and "▲ 2 more</span> than the week before (1)" in mine
    theirs = _team_card(html, OTHER)
    assert (
        '<div class="big">0</div>' in theirs
        and "▼ 1 fewer</span> than the week before (1)" in theirs
    )
    assert OTHER not in console("supervisor").text("/console/activity")


def test_quiet_officers(app, client, console, officer, make_user):
    DeviceClient(client, make_user("officer", TEAM, username="pc.never"), "Never used")
    make_user("officer", TEAM, username="pc.old")
    old = DeviceClient(client, "pc.old")
    old_record = push_record(old)
    with app.app_context():
        db.session.get(Record, old_record).created_at = utcnow() - timedelta(days=10)
        db.session.commit()
    push_record(officer)
    html = console("supervisor").text("/console/activity?days=7")
    quiet = html[html.index("Officers with nothing synced") : html.index("Devices not synced")]
    names = re.findall(r'/console/people/\d+">([^<]+)<', quiet)
    assert names == ["pc.never", "pc.old"]  # never first, then the longest quiet
    assert "never" in quiet and "10 days ago" in quiet
    # a wider window leaves only the officer who never synced
    wider = console("supervisor").text("/console/activity?days=30")
    quiet = wider[wider.index("Officers with nothing synced") : wider.index("Devices not synced")]
    assert re.findall(r'/console/people/\d+">([^<]+)<', quiet) == ["pc.never"]


def _age_device(app, device_id: str, *, hours: float, pending: int | None = None) -> None:
    with app.app_context():
        device = db.session.get(Device, device_id)
        device.last_sync_at = utcnow() - timedelta(hours=hours)
        if pending is not None:
            device.pending = pending
        db.session.commit()


def _section(html: str, start: str, end: str | None) -> str:
    part = html[html.index(start) :]
    return part[: part.index(end)] if end else part


def test_stale_devices_and_phones_holding_unsynced_work(app, client, console, officer):
    holding = DeviceClient(client, "pc.one", "Holding phone")
    stale = DeviceClient(client, "pc.one", "Drawer phone")
    fine = DeviceClient(client, "pc.one", "Busy phone")
    revoked = DeviceClient(client, "pc.one", "Lost phone")
    push_record(fine)
    _age_device(app, holding.device_id, hours=30, pending=5)
    _age_device(app, stale.device_id, hours=24 * 9, pending=0)
    _age_device(app, revoked.device_id, hours=24 * 9, pending=3)
    _age_device(app, officer.device_id, hours=2, pending=2)  # pending but synced recently
    person = console("supervisor")
    person.post(f"/console/devices/{revoked.device_id}/revoke")
    html = person.text("/console/activity?days=7&hours=24")
    holding_part = _section(html, "Phones holding unsynced work", "Officers with nothing synced")
    assert "Holding phone" in holding_part and ">5<" in holding_part
    for name in ("Drawer phone", "Busy phone", "Lost phone", "Pixel of pc.one"):
        assert name not in holding_part
    stale_part = _section(html, "Devices not synced for more than 7 days", None)
    assert "Drawer phone" in stale_part
    for name in ("Holding phone", "Busy phone", "Lost phone"):
        assert name not in stale_part


def test_a_phone_that_only_pulls_has_synced_and_a_new_one_is_not_stale(
    app, client, console, officer
):
    reader = DeviceClient(client, "pc.one", "Reading phone")
    _age_device(app, reader.device_id, hours=24 * 9)
    assert reader.pull().status_code == 200  # it sends nothing, but it did sync
    new = DeviceClient(client, "pc.one", "New phone")  # signed in just now, not synced yet
    forgotten = DeviceClient(client, "pc.one", "Forgotten phone")
    with app.app_context():
        device = db.session.get(Device, forgotten.device_id)
        device.created_at = utcnow() - timedelta(days=10)
        db.session.commit()
    html = console("supervisor").text("/console/activity?days=7")
    stale_part = _section(html, "Devices not synced for more than 7 days", None)
    assert "Forgotten phone" in stale_part
    assert "Reading phone" not in stale_part and "New phone" not in stale_part
    with app.app_context():
        assert db.session.get(Device, new.device_id).last_sync_at is None


def test_days_and_hours_are_bounded(app, console):
    html = console("supervisor").text("/console/activity?days=-4&hours=999999999")
    assert "more than 1 days" in html or "more than 1 day" in html
    assert console("supervisor").get("/console/activity?days=abc").status_code == 200


def test_activity_counts_use_one_query_per_panel(app, console, officer):
    for days in range(5):
        push_record(officer, occurred_at=_ago(days))
    statements: list[str] = []
    person = console("supervisor")
    with app.app_context():
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        sa.event.listen(db.engine, "before_cursor_execute", listener)
        try:
            person.text("/console/activity")
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listener)
    assert sum("FROM record" in s for s in statements) <= 3
