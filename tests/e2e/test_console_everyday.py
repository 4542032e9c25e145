"""A sergeant's everyday use of the console at 1280x800 on the demo force (issue 17): finding
what just synced, returning without a comment, approving a filtered list, settling a conflict,
the phones page and the access log in plain words."""

from __future__ import annotations

import re

import pytest
from conftest import EVERY_IMPACT, SHOTS, run_axe
from playwright.sync_api import expect
from test_console_pages import _sign_in, demo_server  # noqa: F401  (the fixture)

pytestmark = pytest.mark.e2e
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
def desk(browser, demo_server):  # noqa: F811
    context = browser.new_context(
        viewport=DESKTOP, base_url=demo_server.url, locale="en-GB", timezone_id="Europe/London"
    )
    context.set_default_timeout(15000)
    page = context.new_page()
    csp: list[str] = []
    page.on("console", lambda m: csp.append(m.text) if "Content Security" in m.text else None)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield page
    context.close()
    assert csp == []


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"console-{name}-desktop.png"))


def test_finding_what_just_synced(desk):
    page = desk
    _sign_in(page, "sgt.patel")
    page.get_by_label("Newest first, by").select_option(label="When it reached the server")
    page.get_by_role("button", name="Apply filters").click()
    assert "sort=received" in page.url
    expect(page.locator("#record-count")).to_contain_text(re.compile(r"^[\d,]+ records · "))
    expect(page.locator("#record-count")).to_contain_text("newest first by when received")
    expect(page.get_by_role("columnheader", name="Received")).to_be_visible()

    page.get_by_label("Search").fill("parking")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#record-count")).to_contain_text(re.compile(r"records? match"))
    marks = page.locator("table.records mark")
    expect(marks.first).to_be_visible()
    assert all(m.lower().startswith("park") for m in marks.all_inner_texts())
    _shot(page, "records-received")

    # A record opened from the list steps through the same list.
    rows = page.locator("table.records tbody tr")
    first = rows.nth(0).get_by_role("link").first.get_attribute("href")
    second = rows.nth(1).get_by_role("link").first.get_attribute("href")
    page.goto(first)
    expect(page.get_by_text("Newest in the list")).to_be_visible()
    page.get_by_role("link", name="Older record").click()
    assert page.url.endswith(second)
    page.get_by_role("link", name="Newer record").click()
    assert page.url.endswith(first)
    page.get_by_role("link", name="← Records (this list)").click()
    assert "q=parking" in page.url and "sort=received" in page.url


def test_returning_without_a_comment_says_so_beside_the_box(desk):
    page = desk
    _sign_in(page, "sgt.patel")
    page.goto("/console/records?review=pending")
    page.locator("table.records tbody tr").first.get_by_role("link").first.click()
    page.get_by_role("button", name="Return to officer").click()
    box = page.get_by_label("Comment for the officer")
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(box).to_be_focused()
    error = page.locator("#comment-error")
    expect(error).to_contain_text("Say what the officer should fix")
    assert page.locator(".flashes").count() == 0
    top = page.evaluate("() => document.querySelector('#comment-error').getBoundingClientRect()")
    assert 0 <= top["y"] < DESKTOP["height"]  # on screen, beside the box, not off at the top
    _shot(page, "record-return-error")
    box.fill("Add the place, please.")
    page.get_by_role("button", name="Return to officer").click()
    expect(page.get_by_role("status").filter(has_text="returned to the officer")).to_be_visible()


def test_approving_a_filtered_list_asks_with_the_count(desk):
    page = desk
    _sign_in(page, "sgt.patel")
    page.goto("/console/records?q=parking&review=pending")
    button = page.get_by_role("button", name=re.compile(r"^Approve (all )?[\d,]+ records?$"))
    count = int(re.search(r"[\d,]+", button.inner_text()).group().replace(",", ""))
    assert count > 0
    asked: list[str] = []

    def answer(dialog, accept: bool) -> None:
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda d: answer(d, False))
    button.click()
    expect(page.locator("#record-count")).to_contain_text(f"{count:,} record")
    page.once("dialog", lambda d: answer(d, True))
    button.click()
    expect(page.get_by_role("status")).to_contain_text(f"{count:,} record")
    expect(page.get_by_role("status")).to_contain_text("approved")
    assert f"Approve all {count:,} records in this list?" in asked[0] or count == 1
    expect(page.locator("table.records")).to_have_count(0)  # nothing waits in this list now
    page.goto("/console/records?q=parking&review=approved")
    expect(page.locator("#record-count")).to_contain_text(re.compile(r"\d"))


def test_a_conflict_names_who_and_what_and_asks_for_a_value_only_when_chosen(desk):
    page = desk
    _sign_in(page, "sgt.patel")
    nav = page.get_by_role("navigation", name="Console")
    expect(nav.get_by_role("link", name=re.compile(r"^Conflicts 1 open"))).to_be_visible()
    nav.get_by_role("link", name=re.compile("^Conflicts")).click()
    conflict = page.locator("article.conflict").first
    expect(conflict.get_by_role("heading", level=2)).to_contain_text("PC 3310 Okafor's")
    expect(conflict.locator("mark.differs").first).to_be_visible()
    new_value = conflict.get_by_label("New value", exact=True)
    expect(new_value).to_be_hidden()
    conflict.get_by_label("Write a new value").check()
    expect(new_value).to_be_visible()
    assert run_axe(page, EVERY_IMPACT) == []
    _shot(page, "conflicts-new-value")


def test_the_phones_page_and_the_access_log_in_plain_words(desk):
    page = desk
    _sign_in(page, "admin")
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Phones").click()
    expect(page.get_by_role("heading", name="Phones")).to_be_visible()
    table = page.locator("#phones")
    for header in ("Phone", "Officer", "App version", "Last sync", "Unsynced changes", "Action"):
        expect(table.get_by_role("columnheader", name=header, exact=True)).to_be_visible()
    row = table.get_by_role("row").filter(has_text="PCSO 7790 Reid")
    expect(row).to_have_count(1)
    page.once("dialog", lambda d: d.accept())
    row.get_by_role("button", name=re.compile("^Revoke")).click()
    assert page.url.endswith("/console/phones")
    expect(page.get_by_role("status")).to_contain_text("revoked")
    expect(table.get_by_role("row").filter(has_text="PCSO 7790 Reid")).to_have_count(0)
    assert run_axe(page, EVERY_IMPACT) == []
    _shot(page, "phones-after-revoke")

    page.goto("/console/access-log")
    page.get_by_label("Action").select_option(label="Revoked a phone")
    page.get_by_role("button", name="Search").click()
    assert "action=revoke_device" in page.url
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Revoked a phone")
    expect(rows).to_contain_text("Officer: pcso.reid")
    expect(rows).not_to_contain_text('"user"')

    # The person page: deactivation is a card of its own, not inside "Move to team".
    page.goto("/console/teams")
    page.get_by_role("link", name="PC 3310 Okafor").click()
    team = page.locator("#team")
    expect(team).to_contain_text("Move to team")
    expect(team).not_to_contain_text("Deactivat")
    expect(page.locator("#access").get_by_role("button", name="Deactivate officer")).to_be_visible()
    assert run_axe(page, EVERY_IMPACT) == []
