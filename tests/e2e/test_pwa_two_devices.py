"""One officer, two phones, the same record edited offline on both."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from conftest import run_axe, screenshot

pytestmark = pytest.mark.e2e


def test_concurrent_edits_merge_or_conflict_and_nothing_is_lost(phone, ui, api):
    ctx_a, ctx_b = phone(), phone()
    a, b = ui.open(ctx_a), ui.open(ctx_b)
    ui.sign_in(a, "pc.one", device="Phone A")
    ui.sign_in(b, "pc.one", device="Phone B")

    ui.new_record(a, "Patrol of the park: youths by the skate ramp", people=4)
    ui.wait_synced(a)
    ui.sync_now(b)
    ui.card(b, "Patrol of the park").wait_for()

    # Different fields, offline on both phones: both edits survive.
    ctx_a.set_offline(True)
    ctx_b.set_offline(True)
    ui.edit_record(a, "Patrol of the park", summary="Patrol of the park: spoke with six youths at the skate ramp")
    ui.edit_record(b, "Patrol of the park", people=6)
    ctx_a.set_offline(False)
    ui.wait_synced(a)
    ctx_b.set_offline(False)
    ui.wait_synced(b)
    ui.sync_now(a)
    for page in (a, b):
        card = ui.card(page, "spoke with six youths")
        expect(card.locator(".card-meta")).to_contain_text("6 people")
        expect(card.locator(".badge")).to_contain_text("Synced")
    [record] = api("pc.one").pull_all().values()
    assert record["data"]["summary"] == "Patrol of the park: spoke with six youths at the skate ramp"
    assert record["data"]["people_count"] == 6
    assert record["conflicts"] == []

    # The same field on both phones: a conflict that keeps both values, shown on both.
    ctx_a.set_offline(True)
    ctx_b.set_offline(True)
    ui.edit_record(a, "six youths", summary="Skate ramp: agreed a youth club referral (A)")
    ui.edit_record(b, "six youths", summary="Skate ramp: litter and noise complaints (B)")
    ctx_a.set_offline(False)
    ui.wait_synced(a)
    ctx_b.set_offline(False)
    ui.wait_synced(b)
    ui.sync_now(a)
    values = {"Skate ramp: agreed a youth club referral (A)", "Skate ramp: litter and noise complaints (B)"}
    for page in (a, b):
        card = page.locator("li.card")
        expect(card).to_have_count(1)
        expect(card.locator(".badge")).to_have_text("Conflict")
        for value in values:
            expect(card.locator(".conflicts")).to_contain_text(value)
    assert run_axe(a) == []
    screenshot(a, "conflict")
    [record] = api("pc.one").pull_all().values()
    [conflict] = record["conflicts"]
    assert conflict["field"] == "summary"
    assert {conflict["winner"]["value"], conflict["loser"]["value"]} == values
    assert record["data"]["summary"] == conflict["winner"]["value"]
