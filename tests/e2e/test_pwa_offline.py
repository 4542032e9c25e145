"""An officer records with no signal, reloads offline, and everything syncs when back online."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_offline_records_survive_reload_and_sync(phone, ui, api):
    context = phone()
    page = ui.open(context)
    ui.sign_in(page, "pc.one")

    context.set_offline(True)
    summaries = [f"Offline contact {i}: spoke with shop staff about bike theft" for i in (1, 2, 3)]
    for i, summary in enumerate(summaries, start=1):
        ui.new_record(page, summary, people=i)
    expect(ui.status(page)).to_have_text("3 records waiting")
    expect(page.locator("#sync-detail")).to_contain_text("Offline")
    for summary in summaries:
        expect(ui.card(page, summary).locator(".badge")).to_have_text("Pending")

    page.reload()
    page.get_by_role("heading", name="My log").wait_for()
    for summary in summaries:
        ui.card(page, summary).wait_for()
    assert len(ui.outbox(page)) == 3

    context.set_offline(False)
    ui.wait_synced(page)
    for summary in summaries:
        expect(ui.card(page, summary).locator(".badge")).to_have_text(
            re.compile(r"^Synced \d\d:\d\d · Waiting for review$")
        )

    on_server = {r["data"]["summary"]: r for r in api("pc.one").pull_all().values()}
    assert set(on_server) == set(summaries)
    for i, summary in enumerate(summaries, start=1):
        record = on_server[summary]
        assert record["officer"]["username"] == "pc.one"
        assert record["team"] == "NPT-A"
        assert record["data"]["people_count"] == i
        assert record["data"]["kind"] == "face_to_face"
        assert record["deleted"] is False
    # Another team never sees them.
    assert api("pc.bravo").pull_all() == {}

    # The worker answers only the app's own files: the console on the same origin is untouched.
    app_page = page.goto("/")
    assert app_page is not None and app_page.from_service_worker
    console = page.goto("/console/")
    assert console is not None and not console.from_service_worker
