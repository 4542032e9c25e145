"""A conflict made by two phones is resolved in the console, and the phones pick it up."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from test_console_review_journey import DESKTOP, console_sign_in  # noqa: F401  (DESKTOP for the fixture)

pytestmark = pytest.mark.e2e


@pytest.fixture
def desk(browser, server):
    context = browser.new_context(
        viewport={"width": 360, "height": 740},
        base_url=server.url,
        locale="en-GB",
        timezone_id="Europe/London",
    )
    context.set_default_timeout(15000)
    yield context
    context.close()


def test_conflict_resolved_in_the_console_reaches_both_phones(phone, desk, ui, api):
    ctx_a, ctx_b, a, b = ui.two_phones_with_one_record(
        phone, "Bus station: youths gathering after school", people=5
    )
    ui.edit_offline_on_both(
        (ctx_a, ctx_b),
        (a, b),
        "Bus station",
        (
            {"summary": "Bus station: talked to the youths, all calm (A)"},
            {"summary": "Bus station: shop reported thefts (B)"},
        ),
    )
    for page in (a, b):
        expect(page.locator("li.card .badge")).to_have_text("Conflict")

    # The sergeant settles it on a phone-sized screen: keeps B's words, which lost the merge.
    sergeant = desk.new_page()
    console_sign_in(sergeant)
    sergeant.get_by_role("link", name="Conflicts").click()
    conflict = sergeant.locator("article.conflict")
    expect(conflict).to_have_count(1)
    expect(conflict).to_contain_text("(A)")
    expect(conflict).to_contain_text("(B)")
    record = next(iter(api("pc.one").pull_all().values()))
    loser = record["conflicts"][0]["loser"]["value"]
    side = "The other change" if loser.endswith("(B)") else "In the record now"
    conflict.get_by_label(f"Keep: {side}").check()
    conflict.get_by_role("button", name="Resolve").click()
    expect(sergeant.get_by_role("status").filter(has_text="resolved")).to_be_visible()
    expect(sergeant.get_by_text("No open conflicts")).to_be_visible()

    chosen = "Bus station: shop reported thefts (B)"
    for page in (a, b):
        ui.sync_now(page)
        card = ui.card(page, chosen)
        expect(card).to_have_count(1)
        expect(card.locator(".badge")).not_to_have_text("Conflict")
        expect(page.locator(".notice.conflict")).to_have_count(0)
    record = next(iter(api("pc.one").pull_all().values()))
    assert record["data"]["summary"] == chosen and record["conflicts"] == []
