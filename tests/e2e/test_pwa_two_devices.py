"""One officer, two phones, the same record edited offline on both."""

from __future__ import annotations

import pytest
from conftest import run_axe, screenshot
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_concurrent_edits_merge_or_conflict_and_nothing_is_lost(phone, ui, api):
    ctx_a, ctx_b, a, b = ui.two_phones_with_one_record(
        phone, "Patrol of the park: youths by the skate ramp", people=4
    )

    # Different fields, offline on both phones: both edits survive.
    ui.edit_offline_on_both(
        (ctx_a, ctx_b),
        (a, b),
        "Patrol of the park",
        (
            {"summary": "Patrol of the park: spoke with six youths at the skate ramp"},
            {"people": 6},
        ),
    )
    for page in (a, b):
        card = ui.card(page, "spoke with six youths")
        expect(card.locator(".card-meta")).to_contain_text("6 people")
        expect(card.locator(".badge")).to_contain_text("Synced")
    [record] = api("pc.one").pull_all().values()
    assert (
        record["data"]["summary"] == "Patrol of the park: spoke with six youths at the skate ramp"
    )
    assert record["data"]["people_count"] == 6
    assert record["conflicts"] == []

    # The same field on both phones: a conflict that keeps both values, shown on both.
    ui.edit_offline_on_both(
        (ctx_a, ctx_b),
        (a, b),
        "six youths",
        (
            {"summary": "Skate ramp: agreed a youth club referral (A)"},
            {"summary": "Skate ramp: litter and noise complaints (B)"},
        ),
    )
    values = {
        "Skate ramp: agreed a youth club referral (A)",
        "Skate ramp: litter and noise complaints (B)",
    }
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
