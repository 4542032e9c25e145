"""The server goes away in the middle of a sync: after it comes back nothing is lost and nothing
is recorded twice."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_server_stops_mid_sync_nothing_lost_or_duplicated(phone, ui, api, server):
    context = phone()
    page = ui.open(context)
    ui.sign_in(page, "pc.one")

    context.set_offline(True)
    summaries = [f"Shift note {i}: checked the bus station" for i in range(1, 6)]
    for summary in summaries:
        ui.new_record(page, summary)
    expect(ui.status(page)).to_have_text("5 records waiting")

    # The first push reaches the server and is applied; the server then dies before the phone
    # hears the answer (the worst moment: written on the server, unknown to the phone).
    pushes = []

    def push_then_die(route):
        pushes.append(route.request.post_data_json)
        if len(pushes) == 1:
            response = route.fetch()
            assert response.status == 200
            server.stop()
            route.abort("connectionreset")
        else:
            route.continue_()

    context.route("**/api/v1/sync/push", push_then_die)
    context.set_offline(False)
    expect(page.locator("#sync-detail")).to_contain_text("retrying", timeout=20000)
    expect(ui.status(page)).to_have_text("5 records waiting")
    outbox = ui.outbox(page)
    assert len(outbox) == 5 and all(entry["attempts"] >= 1 for entry in outbox)

    server.start()  # same port, same database
    ui.sync_now(page)
    ui.wait_synced(page)
    for summary in summaries:
        expect(ui.card(page, summary).locator(".badge")).to_have_text(re.compile("^Synced"))
    assert ui.outbox(page) == []

    # The replayed changes were the same (record id, hlc) pairs, answered as duplicates.
    first, *later = pushes
    stamps = {(c["id"], c["hlc"]) for c in first["changes"]}
    assert len(stamps) == 5
    assert stamps == {(c["id"], c["hlc"]) for c in later[-1]["changes"]}
    records = api("pc.one").pull_all()
    assert sorted(r["data"]["summary"] for r in records.values()) == sorted(summaries)
    assert all(r["rev"] == 1 for r in records.values()), "each change applied exactly once"
