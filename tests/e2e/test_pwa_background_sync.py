"""Background Sync with the app closed: the service worker sends the queue itself; when the app
opens again it learns the results (the server answers the resent changes `duplicate`)."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_worker_sends_the_queue_with_no_app_open(phone, ui, api, server):
    context = phone()
    page = ui.open(context)
    ui.sign_in(page, "pc.one")
    cdp = context.new_cdp_session(page)
    registrations = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda e: registrations.extend(e["registrations"]),
    )
    cdp.send("ServiceWorker.enable")

    context.set_offline(True)
    ui.new_record(page, "Sent by the worker: underpass lighting")
    ui.new_record(page, "Sent by the worker: shop watch meeting")
    expect(ui.status(page)).to_have_text("2 records waiting")

    # The officer leaves the app; the signal comes back; the browser fires the sync event.
    page.goto("about:blank")
    context.set_offline(False)
    [registration] = [r for r in registrations if r["scopeURL"] == server.url + "/"][:1]
    cdp.send(
        "ServiceWorker.dispatchSyncEvent",
        {
            "origin": server.url,
            "registrationId": registration["registrationId"],
            "tag": "beatbook-sync",
            "lastChance": False,
        },
    )
    deadline = time.monotonic() + 15
    while True:
        records = api("pc.one").pull_all()
        if len(records) == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert sorted(r["data"]["summary"] for r in records.values()) == [
        "Sent by the worker: shop watch meeting",
        "Sent by the worker: underpass lighting",
    ]

    page.goto("/")
    ui.wait_synced(page)
    for text in ("underpass lighting", "shop watch meeting"):
        expect(ui.card(page, text).locator(".badge")).to_contain_text("Synced")
    assert all(r["rev"] == 1 for r in api("pc.one").pull_all().values()), "taken once"
