"""Records that wait for the officer: a record a supervisor returned reads as returned (not as
synced), with the comment first, and a banner at the top of My log counts the officer's own
returned or refused records and filters to them. My log shows the officer's own records unless
asked for the whole team's."""

from __future__ import annotations

import re

import pytest
from conftest import run_axe, screenshot
from playwright.sync_api import expect
from sqlalchemy import select

pytestmark = pytest.mark.e2e

GREEN = "rgb(11, 107, 53)"  # --ok, the synced edge


def return_records(server_app, ids_and_comments: dict[str, str]) -> None:
    from server.db.models import User
    from server.records.review import review_record

    def send_back(db):
        sergeant = db.session.scalar(select(User).where(User.username == "sgt.alpha"))
        for record_id, comment in ids_and_comments.items():
            review_record(sergeant, record_id, "returned", comment)

    server_app(send_back)


def ids_by_summary(api, username: str = "pc.one") -> dict[str, str]:
    return {r["data"]["summary"]: r["id"] for r in api(username).pull_all().values()}


def test_returned_records_stand_out_and_the_banner_filters_to_them(phone, ui, api, server_app):
    mate = api("pc.two")
    mates_record = mate.create_record("PC Two: patrol of the park after dark")
    page = ui.open(phone())
    ui.sign_in(page, "pc.one")
    for summary in (
        "Fly-tipping behind the Co-op",
        "School gate chat with parents",
        "Shop visit about shoplifting",
    ):
        ui.new_record(page, summary)
    ui.wait_synced(page)
    ids = ids_by_summary(api)
    return_records(
        server_app,
        {
            ids["Fly-tipping behind the Co-op"]: "Say which street and what was agreed.",
            ids["Shop visit about shoplifting"]: "Which shop? Add the place.",
            mates_record: "Not yours to fix: PC Two's.",
        },
    )
    ui.sync_now(page)

    # The officer's own records only, by default; the heading is unchanged.
    expect(page.get_by_role("heading", name="My log", exact=True)).to_be_visible()
    expect(page.get_by_role("radio", name="Mine")).to_be_checked()
    expect(page.locator("li.card")).to_have_count(3)
    expect(ui.card(page, "PC Two")).to_have_count(0)

    banner = page.get_by_role("button", name=re.compile("2 records need your attention"))
    expect(banner).to_be_visible()
    fly = ui.card(page, "Fly-tipping")
    expect(fly.locator(".badge")).to_have_text("Sent back — needs your fix")
    edge = fly.evaluate("el => getComputedStyle(el).borderLeftColor")
    assert edge != GREEN, "a returned record must not look synced"
    comment = fly.locator(".notice.review")
    expect(comment).to_contain_text("Returned by your supervisor")
    expect(comment).to_contain_text("Say which street and what was agreed.")
    # The comment comes before the record's own text.
    order = fly.evaluate("""el => [...el.querySelectorAll('.notice.review, .card-summary')]
        .map(n => n.classList.contains('card-summary') ? 'summary' : 'comment')""")
    assert order == ["comment", "summary"]
    expect(ui.card(page, "School gate").locator(".badge")).to_contain_text("Synced")
    assert run_axe(page) == []
    screenshot(page, "returned")

    # The whole team on request: PC Two's returned record is not counted as the officer's.
    page.get_by_text("Whole team", exact=True).click()
    expect(page.get_by_role("radio", name="Whole team")).to_be_checked()
    expect(page.locator("li.card")).to_have_count(4)
    mates = ui.card(page, "PC Two: patrol")
    expect(mates.locator(".badge")).to_have_text("Sent back")
    expect(mates.get_by_role("button", name="Edit")).to_have_count(0)
    expect(banner).to_be_visible()
    assert run_axe(page) == []

    banner.click()
    expect(page.locator("li.card")).to_have_count(2)
    expect(
        page.get_by_text("Showing only your 2 records that need your attention.")
    ).to_be_visible()
    assert run_axe(page) == []
    screenshot(page, "attention")
    page.get_by_role("button", name="Show all").click()
    expect(page.locator("li.card")).to_have_count(4)

    # Fixing one sends it back for review: the count drops and its badge is no longer returned.
    ui.edit_record(
        page,
        "Fly-tipping",
        summary="Fly-tipping behind the Co-op on Mill Lane; council to clear it Friday",
    )
    ui.wait_synced(page)
    expect(
        page.get_by_role("button", name=re.compile("1 record needs your attention"))
    ).to_be_visible()
    expect(ui.card(page, "Mill Lane").locator(".badge")).to_contain_text("Synced")
    expect(ui.card(page, "Mill Lane").locator(".notice.review")).to_have_count(0)
