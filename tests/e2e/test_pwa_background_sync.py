"""Background Sync with the app closed: since 1.3.0 the queue is encrypted under a key only the
unlocked app holds, so the service worker sends nothing; the queue syncs when the officer opens
the app again."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_worker_sends_nothing_with_no_app_open_and_the_app_syncs_when_opened(
    phone, ui, api, server
):
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
    ui.new_record(page, "Queued: underpass lighting")
    ui.new_record(page, "Queued: shop watch meeting")
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
    pushes = []
    context.on("request", lambda r: pushes.append(r) if "/api/v1/sync/" in r.url else None)
    time.sleep(3)
    assert pushes == [], "the worker holds no key and no token: it sends nothing"
    assert api("pc.one").pull_all() == {}

    # Back in the same tab within the idle window: the app is still unlocked and syncs at once.
    page.goto("/")
    ui.wait_synced(page)
    for text in ("underpass lighting", "shop watch meeting"):
        expect(ui.card(page, text).locator(".badge")).to_contain_text("Synced")
    assert sorted(r["data"]["summary"] for r in api("pc.one").pull_all().values()) == [
        "Queued: shop watch meeting",
        "Queued: underpass lighting",
    ]
