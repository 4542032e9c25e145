"""The supervisor console and the officers' app together, in two browsers.

A supervisor finds an officer's record by searching, returns it with a comment; the officer's
phone shows the comment after its next sync; the officer fixes it; the supervisor approves it.
"""

from __future__ import annotations

import os
import re

import pytest
from conftest import PASSWORD, SHOTS, SUPERVISOR
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
def desk(browser, server):
    """The supervisor's desktop browser."""
    context = browser.new_context(
        viewport=DESKTOP, base_url=server.url, locale="en-GB", timezone_id="Europe/London"
    )
    context.set_default_timeout(15000)
    yield context
    context.close()


def console_sign_in(page, username: str = SUPERVISOR) -> None:
    page.goto("/console/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Records", exact=True)).to_be_visible()


def test_return_fix_and_approve(phone, desk, ui, api):
    officer = ui.open(phone())
    ui.sign_in(officer, "pc.one", device="Officer's phone")
    ui.new_record(officer, "Spoke with market traders about a spate of shoplifting", people=2)
    ui.new_record(officer, "Foot patrol along the seafront")
    ui.wait_synced(officer)

    sergeant = desk.new_page()
    console_sign_in(sergeant)
    sergeant.get_by_label("Search").fill("shoplift")
    sergeant.get_by_role("button", name="Apply filters").click()
    rows = sergeant.locator("table.records tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("market traders")
    assert "q=shoplift" in sergeant.url
    rows.get_by_role("link", name=re.compile("market traders")).click()
    expect(sergeant.locator("#record-fields")).to_contain_text(
        "Spoke with market traders about a spate of shoplifting"
    )

    sergeant.get_by_label("Comment for the officer").fill("Which market? Add the place, please.")
    sergeant.get_by_role("button", name="Return to officer").click()
    expect(
        sergeant.get_by_role("status").filter(has_text="returned to the officer")
    ).to_be_visible()

    # The officer's phone shows the comment after its next pull.
    ui.sync_now(officer)
    card = ui.card(officer, "market traders")
    expect(card).to_contain_text("Returned by your supervisor")
    expect(card).to_contain_text("Which market? Add the place, please.")

    # The officer fixes the record: it goes back to waiting for review.
    card.get_by_role("button", name="Edit").click()
    officer.get_by_role("heading", name="Edit record").wait_for()
    officer.get_by_label("Place").fill("Weymouth Saturday market")
    officer.get_by_role("button", name="Save").click()
    officer.get_by_role("heading", name="My log").wait_for()
    ui.wait_synced(officer)

    # Back with the sergeant, it reads as resubmitted, not as a new record waiting.
    sergeant.reload()
    expect(sergeant.locator(".page-head .badge-resubmitted")).to_have_text("Resubmitted")
    note = sergeant.locator("#resubmitted")
    expect(note).to_contain_text(re.compile(r"Resubmitted by .+ after your return at .+: "))
    expect(note).to_contain_text("Which market? Add the place, please.")
    if os.environ.get("BEATBOOK_SCREENSHOTS") == "1":
        note.scroll_into_view_if_needed()
        sergeant.screenshot(path=str(SHOTS / "console-record-resubmitted-desktop.png"))
    expect(sergeant.locator("#record-fields")).to_contain_text("Weymouth Saturday market")
    listed = desk.new_page()
    listed.goto("/console/records?review=resubmitted")
    expect(listed.locator("table.records tbody tr")).to_have_count(1)
    expect(listed.locator("table.records tbody tr .badge-resubmitted")).to_have_text("Resubmitted")
    listed.close()
    history = sergeant.locator("section.history")
    expect(history).to_contain_text("Officer's phone")
    expect(history).to_contain_text("Weymouth Saturday market")
    sergeant.get_by_role("button", name="Approve").click()
    expect(sergeant.get_by_role("status").filter(has_text="Record approved.")).to_be_visible()
    expect(sergeant.locator(".page-head .badge-approved")).to_have_text("Approved")

    ui.sync_now(officer)
    card = ui.card(officer, "market traders")
    expect(card).to_contain_text("Approved")
    expect(card).not_to_contain_text("Returned by your supervisor")
    record = next(
        r for r in api("pc.one").pull_all().values() if "market traders" in r["data"]["summary"]
    )
    assert record["review"]["state"] == "approved"


def test_text_is_shown_as_text_in_the_console(phone, desk, ui):
    officer = ui.open(phone())
    ui.sign_in(officer, "pc.one", device="Officer's phone")
    ui.new_record(officer, "<script>document.title='owned'</script> <b>not bold</b>")
    ui.wait_synced(officer)
    sergeant = desk.new_page()
    console_sign_in(sergeant)
    row = sergeant.locator("table.records tbody tr").first
    expect(row).to_contain_text("<script>document.title='owned'</script> <b>not bold</b>")
    assert sergeant.title() != "owned"
    row.get_by_role("link", name=re.compile("not bold")).click()
    expect(sergeant.locator("#record-fields")).to_contain_text("<b>not bold</b>")
    assert sergeant.locator("dl.fields b").count() == 0
