"""The server answers a push 503 `unavailable` with Retry-After (its database is down or
overloaded): the app says the server is busy and will retry, keeps its queue, and syncs by itself
once the server answers again, no sooner than it was told."""

from __future__ import annotations

import json
import time

import pytest
from conftest import run_axe, screenshot
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

BUSY = {
    "error": {
        "code": "unavailable",
        "message": "The database is not answering. Try again in a moment.",
    }
}


def test_503_keeps_the_queue_says_server_busy_and_syncs_after_retry_after(phone, ui, api):
    context = phone()
    page = ui.open(context)
    ui.sign_in(page)
    refused: list[float] = []
    passed: list[float] = []
    busy = {"on": True}

    def push(route):
        if busy["on"]:
            refused.append(time.monotonic())
            route.fulfill(
                status=503,
                body=json.dumps(BUSY),
                headers={"Retry-After": "3", "Content-Type": "application/json"},
            )
        else:
            passed.append(time.monotonic())
            route.continue_()

    page.route("**/api/v1/sync/push", push)
    ui.new_record(page, "Recorded while the server was busy")
    ui.new_record(page, "Second one while busy")
    expect(ui.status(page)).to_have_text("2 records waiting")
    expect(page.locator("#sync-detail")).to_have_text("Server busy, will retry")
    assert run_axe(page) == []
    screenshot(page, "server-busy")
    assert len(ui.outbox(page)) == 2, "the queue is kept"
    assert api().pull_all() == {}

    busy["on"] = False  # the server is back: the app retries by itself, after Retry-After
    ui.wait_synced(page)
    assert passed, "retried without the officer tapping anything"
    assert passed[0] - refused[-1] >= 2.5, (refused, passed)
    assert ui.outbox(page) == []
    assert sorted(r["data"]["summary"] for r in api().pull_all().values()) == [
        "Recorded while the server was busy",
        "Second one while busy",
    ]
    for summary in ("Recorded while", "Second one"):
        expect(ui.card(page, summary).locator(".badge")).to_contain_text("Synced")
