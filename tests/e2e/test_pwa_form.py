"""The record form and My log as an officer uses them: five taps for a quick contact, location on
request, drafts kept as typed, kind-specific fields, filters, delete with confirmation, and a
record a supervisor returned."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

pytestmark = pytest.mark.e2e


def test_quick_contact_takes_four_taps_plus_the_summary(phone, ui, api):
    page = ui.open(phone())
    ui.sign_in(page)
    taps = 0
    for locator in (
        page.get_by_role("button", name="New record"),
        page.get_by_role("radio", name="Face-to-face contact"),
        page.get_by_label("Summary"),
    ):
        locator.click()
        taps += 1
    page.keyboard.type("Quick word with a dog walker about a broken street light.")
    page.get_by_role("button", name="Save").click()
    taps += 1
    assert taps <= 5
    ui.wait_synced(page)
    [record] = api().pull_all().values()
    assert record["data"]["kind"] == "face_to_face"
    assert record["data"]["standards"] == ["F2F"], "defaulted from the kind"
    assert record["data"]["location"] is None, "no location unless asked for"


def test_location_draft_kind_fields_filter_and_delete(phone, ui, api):
    context = phone(
        geolocation={"latitude": 50.6144, "longitude": -2.4573, "accuracy": 12},
        permissions=["geolocation"],
    )
    page = ui.open(context)
    ui.sign_in(page)

    page.get_by_role("button", name="New record").click()
    page.get_by_role("radio", name="Key community leader contact").check()
    expect(page.locator(".standards summary")).to_have_text("Standards evidenced (2)")
    page.get_by_label("Contact’s role").fill("Head teacher")
    page.get_by_label("Organisation").fill("St Mary's Primary")
    expect(page.get_by_label("Publicised on")).to_be_hidden()
    page.get_by_label("Summary").fill("Parking on the zig-zags at pick-up time")
    page.get_by_role("button", name="Plus one").click()
    page.get_by_role("button", name="Plus one").click()
    page.get_by_role("button", name="Add my location").click()
    expect(page.locator(".loc-status")).to_have_text("Location added, accurate to ±12 m.")
    page.get_by_role("checkbox", name="Young people").check(force=True)
    page.wait_for_timeout(400)  # the draft is written a moment after typing stops
    page.reload()  # the phone locked and the app was killed mid-record: it reopens the form
    page.get_by_role("heading", name="New record").wait_for()
    expect(page.get_by_text("Your unsaved draft is back")).to_be_visible()
    expect(page.get_by_label("Summary")).to_have_value("Parking on the zig-zags at pick-up time")
    expect(page.get_by_label("People", exact=True)).to_have_value("2")
    expect(page.get_by_role("radio", name="Key community leader contact")).to_be_checked()
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="My log").wait_for()

    page.get_by_role("button", name="New record").click()
    page.get_by_role("radio", name="Beat surgery").check()
    expect(page.get_by_label("Publicised on")).to_be_visible()
    page.get_by_label("Publicised on").fill("2026-11-20")
    page.get_by_label("Summary").fill("Surgery at the library")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="My log").wait_for()
    ui.wait_synced(page)

    records = {r["data"]["kind"]: r["data"] for r in api().pull_all().values()}
    contact = records["key_contact"]
    assert (
        contact["contact_role"] == "Head teacher" and contact["contact_org"] == "St Mary's Primary"
    )
    assert contact["people_count"] == 2 and contact["groups"] == ["young_people"]
    assert contact["location"] == {"lat": 50.6144, "lon": -2.4573, "accuracy_m": 12}
    assert sorted(contact["standards"]) == ["F2F", "KCL"]
    assert records["beat_surgery"]["publicised_at"].startswith("2026-11-20")

    page.locator(".filters summary").click()
    # At 360 px the open panel fits the screen: no sideways scrolling, in either scope, empty or
    # filled in (the longest kind's name in the dropdown, both dates set).
    assert_fits_phone_width(page, "filter panel, Mine")
    page.locator(".seg-option", has_text="Whole team").click()
    assert_fits_phone_width(page, "filter panel, Whole team")
    page.get_by_label("Filter by kind").select_option(label="Key community leader contact")
    page.get_by_label("From", exact=True).fill("2020-01-01")
    page.get_by_label("To", exact=True).fill("2099-12-31")
    assert_fits_phone_width(page, "filter panel filled in, Whole team")
    page.screenshot(path=str(screenshot_dir() / "pwa-log-filter-360.png"))
    page.locator(".seg-option", has_text="Mine").click()
    assert_fits_phone_width(page, "filter panel filled in, Mine")
    page.get_by_role("button", name="Clear filter").click()
    page.get_by_label("Filter by kind").select_option(label="Beat surgery")
    expect(page.locator("li.card")).to_have_count(1)
    expect(page.locator(".count-note")).to_have_text("1 record matches")
    page.get_by_role("button", name="Clear filter").click()
    expect(page.locator("li.card")).to_have_count(2)

    ui.card(page, "Surgery at the library").get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Delete this record?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.locator("li.card")).to_have_count(2)
    ui.card(page, "Surgery at the library").get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.locator("li.card")).to_have_count(1)
    ui.wait_synced(page)
    deleted = [r for r in api().pull_all().values() if r["data"]["kind"] == "beat_surgery"]
    assert [r["deleted"] for r in deleted] == [True], "a tombstone, not a vanished row"


def _reviewed_by_the_sergeant(
    phone, ui, api, server_app, summary: str, state: str, comment: str = ""
):
    """A phone records `summary` and syncs; sgt.alpha reviews it; the phone syncs again."""
    from server.db.models import User
    from server.records.review import review_record

    page = ui.open(phone())
    ui.sign_in(page)
    ui.new_record(page, summary)
    ui.wait_synced(page)
    [record_id] = api().pull_all().keys()

    def review(db):
        sergeant = db.session.scalar(select(User).where(User.username == "sgt.alpha"))
        review_record(sergeant, record_id, state, comment)

    server_app(review)
    ui.sync_now(page)
    return page


def test_returned_record_shows_the_comment_and_goes_back_when_edited(phone, ui, api, server_app):
    page = _reviewed_by_the_sergeant(
        phone,
        ui,
        api,
        server_app,
        "Talked with residents about the fly-tipping",
        "returned",
        "Say which street and what was agreed.",
    )
    card = ui.card(page, "fly-tipping")
    expect(card.locator(".notice.review")).to_contain_text("Say which street and what was agreed.")
    ui.edit_record(
        page,
        "fly-tipping",
        summary="Talked with residents of Mill Lane about the "
        "fly-tipping; council to clear it Friday",
    )
    ui.wait_synced(page)
    expect(ui.card(page, "Mill Lane").locator(".notice.review")).to_have_count(0)
    [record] = api().pull_all().values()
    assert record["review"]["state"] == "pending", "an edited returned record goes back for review"


def test_editing_an_approved_record_says_first_that_it_goes_back_for_review(
    phone, ui, api, server_app
):
    page = _reviewed_by_the_sergeant(
        phone, ui, api, server_app, "Spoke with the school crossing patrol", "approved"
    )
    expect(ui.card(page, "crossing patrol").locator(".badge")).to_have_text(
        re.compile(r"^Synced \d\d:\d\d · Approved$")
    )
    ui.card(page, "crossing patrol").get_by_role("button", name="Edit").click()
    page.get_by_role("heading", name="Edit record").wait_for()
    note = page.locator(".notice.info")
    expect(note.locator("strong")).to_have_text("Approved by your supervisor")
    expect(note.locator("p")).to_have_text("Saving a change sends it back for review.")
    expect(note).to_be_in_viewport()
    expect(page.get_by_role("button", name="Save")).to_have_accessible_description(
        "Approved by your supervisor Saving a change sends it back for review."
    )
    page.screenshot(path=str(screenshot_dir() / "pwa-form-approved-note.png"))
    page.get_by_label("Summary").fill("Spoke with the school crossing patrol about parked vans")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="My log").wait_for()
    ui.wait_synced(page)
    [record] = api().pull_all().values()
    assert record["review"]["state"] == "pending", "the warning told the truth"

    # A record nobody has reviewed yet opens with no such notice.
    ui.card(page, "parked vans").get_by_role("button", name="Edit").click()
    page.get_by_role("heading", name="Edit record").wait_for()
    expect(page.locator(".notice")).to_have_count(0)
    assert page.get_by_role("button", name="Save").get_attribute("aria-describedby") is None


# Every control of the filter panel, and the page, inside the phone's 360 px.
FITS = """() => ({
    scrollWidth: document.documentElement.scrollWidth,
    overflowing: [...document.querySelectorAll('.filters input, .filters select, .filters button')]
        .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth)
        .map((el) => `${el.id || el.textContent.trim()}: ${Math.round(el.getBoundingClientRect().right)}`),
})"""


def assert_fits_phone_width(page, what: str) -> None:
    fit = page.evaluate(FITS)
    assert fit["scrollWidth"] <= 360 and not fit["overflowing"], (what, fit)


# Where an element is on screen, and whether anything (the fixed Cancel/Save bar, the app bar)
# covers its middle.
ON_SCREEN = """(el) => {
    const r = el.getBoundingClientRect();
    const bar = document.querySelector('.form-actions').getBoundingClientRect();
    const appbar = document.querySelector('.appbar').getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + Math.min(r.width, 60) / 2, r.top + r.height / 2);
    return {top: r.top, bottom: r.bottom, barTop: bar.top, appbarBottom: appbar.bottom,
            uncovered: Boolean(hit) && (el === hit || el.contains(hit) || hit.contains(el))};
}"""


def assert_in_view(locator, what: str) -> None:
    box = locator.evaluate(ON_SCREEN)
    assert box["top"] >= box["appbarBottom"] and box["bottom"] <= box["barTop"], (what, box)
    assert box["uncovered"], (what, box)


def test_every_validation_error_is_in_view_above_the_save_bar_and_announced(phone, ui):
    page = ui.open(phone())
    ui.sign_in(page)
    page.get_by_role("button", name="New record").click()
    save = page.get_by_role("button", name="Save")
    alert = page.locator("form .form-error[role=alert]")

    save.click()  # nothing chosen: the kind is the first problem on the screen
    kind_error = page.locator("#err-kind")
    expect(kind_error).to_have_text("Choose what kind of engagement this was.")
    assert_in_view(kind_error, "kind error")
    assert page.evaluate("() => document.activeElement.name") == "kind"
    assert_in_view(page.locator(":focus"), "focused kind radio")
    expect(alert).to_contain_text("Choose what kind of engagement this was.")
    expect(alert).to_contain_text("2 things to fix")
    shot_dir = screenshot_dir()
    page.screenshot(path=str(shot_dir / "pwa-form-kind-error.png"))

    page.get_by_role("radio", name="Face-to-face contact").check()
    save.click()
    summary_error = page.locator("#err-summary")
    expect(summary_error).to_contain_text("Write what happened")
    assert_in_view(summary_error, "summary error")
    assert page.evaluate("() => document.activeElement.id") == "f-summary"
    expect(alert).to_have_text("Write what happened (no names of members of the public).")

    page.get_by_label("Summary").fill("Chat at the bus stop")
    page.get_by_label("People", exact=True).fill("-4")
    page.get_by_label("Duration (minutes)").fill("2000")
    page.evaluate("() => window.scrollTo(0, 0)")
    save.click()
    people_error = page.locator("#err-people_count")
    expect(people_error).to_have_text("A whole number from 0 to 100,000.")
    assert_in_view(people_error, "people error")
    expect(alert).to_contain_text("2 things to fix")

    # The last field of the form sits right above the bar.
    page.get_by_label("People", exact=True).fill("4")
    page.evaluate("() => window.scrollTo(0, 0)")
    save.click()
    duration_error = page.locator("#err-duration_minutes")
    expect(duration_error).to_have_text("Minutes, from 0 to 1,440.")
    assert_in_view(duration_error, "duration error")
    assert_in_view(page.locator("#f-duration_minutes"), "duration field")
    page.screenshot(path=str(shot_dir / "pwa-form-duration-error.png"))
    # Saving again with the same mistake says it again (the region is emptied and refilled).
    page.evaluate("() => window.scrollTo(0, 0)")
    save.click()
    expect(alert).to_have_text("Minutes, from 0 to 1,440.")
    assert_in_view(duration_error, "duration error, second time")

    page.get_by_label("Duration (minutes)").fill("20")
    save.click()
    page.get_by_role("heading", name="My log").wait_for()
    ui.wait_synced(page)


def screenshot_dir():
    import os
    from pathlib import Path

    path = Path(os.environ.get("TMPDIR", "/tmp")) / "beatbook-screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path
