"""Everyday use as a new officer meets it (issue 17, the officers' app at 360x740): the sync bar
counts records, a record that never reached the server is deleted with nothing sent (and Undo),
one badge says when a record reached the server and its review, returned cards say who returned
them, a revoked phone says why nothing syncs, typed work is never thrown away unasked, a refused
record opens at its field, the sign-in form names each missing field, search works offline, and
a phone left unnamed is named after its officer."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from conftest import PASSWORD, SHOTS, run_axe, screenshot
from playwright.sync_api import expect
from sqlalchemy import select

pytestmark = pytest.mark.e2e

ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)

# Whether two elements' boxes overlap on screen.
OVERLAP = """([a, b]) => {
    const r = document.querySelector(a).getBoundingClientRect();
    const s = document.querySelector(b).getBoundingClientRect();
    return !(r.right <= s.left || s.right <= r.left || r.bottom <= s.top || s.bottom <= r.top);
}"""


def review(server_app, record_id: str, state: str, comment: str = "") -> None:
    from server.db.models import User
    from server.records.review import review_record

    def act(db):
        sergeant = db.session.scalar(select(User).where(User.username == "sgt.alpha"))
        review_record(sergeant, record_id, state, comment)

    server_app(act)


def ids_by_summary(api) -> dict[str, str]:
    return {r["data"]["summary"]: r["id"] for r in api("pc.one").pull_all().values()}


def test_the_bar_counts_records_and_a_never_synced_delete_sends_nothing(phone, ui, api):
    context = phone()
    page = ui.open(context)
    ui.sign_in(page)
    pushed = []
    context.on(
        "request",
        lambda r: pushed.append(r.post_data_json) if r.url.endswith("/api/v1/sync/push") else None,
    )

    context.set_offline(True)
    ui.new_record(page, "Kept: chat at the bus stop")
    # The toast sits over the sync bar, never over the newest card's buttons.
    expect(page.locator("#toast")).to_have_class(re.compile(r"\bshow\b"))
    assert not page.evaluate(OVERLAP, ["#toast", "li.card .card-actions"])
    ui.new_record(page, "Deleted: typed by mistake")
    ui.edit_record(page, "Kept: chat", summary="Kept: chat at the bus stop about speeding")
    expect(ui.status(page)).to_have_text("2 records waiting")
    # The detail line is whole beside Sync now at 360 px.
    expect(page.locator("#sync-detail")).to_have_text(re.compile(r"^Offline · synced "))
    assert not page.evaluate(OVERLAP, ["#sync-detail", ".sync-now"])
    assert page.evaluate(
        "() => { const d = document.querySelector('#sync-detail');"
        " return d.scrollWidth <= d.clientWidth; }"
    )
    screenshot(page, "sync-bar-offline")

    card = ui.card(page, "Deleted: typed")
    card.get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("It has not reached the server yet")
    expect(dialog).to_contain_text("nothing is sent")
    dialog.get_by_role("button", name="Delete").click()
    expect(ui.card(page, "Deleted: typed")).to_have_count(0)
    expect(ui.status(page)).to_have_text("1 record waiting")
    assert {e["data"].get("summary", "")[:5] for e in ui.outbox(page)} == {"Kept:"}
    toast = page.locator("#toast")
    expect(toast).to_contain_text("Record deleted.")
    assert run_axe(page) == []
    SHOTS.mkdir(parents=True, exist_ok=True)  # the toast is the point here: no waiting for it
    page.screenshot(path=str(SHOTS / "pwa-delete-undo.png"))
    toast.get_by_role("button", name="Undo").click()
    expect(ui.card(page, "Deleted: typed")).to_be_visible()
    expect(ui.status(page)).to_have_text("2 records waiting")

    # Deleted for good this time; back in signal only the kept record reaches the server.
    ui.card(page, "Deleted: typed").get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(ui.status(page)).to_have_text("1 record waiting")
    context.set_offline(False)
    ui.wait_synced(page)
    assert [r["data"]["summary"] for r in api().pull_all().values()] == [
        "Kept: chat at the bus stop about speeding"
    ]
    sent = [c["data"].get("summary") for body in pushed for c in body["changes"]]
    assert all("Deleted" not in (s or "") for s in sent), sent


def test_one_badge_for_reach_time_and_review_and_returned_cards_say_who(phone, ui, api, server_app):
    page = ui.open(phone())
    ui.sign_in(page)
    ui.new_record(page, "Approve me: school gate chat")
    ui.new_record(page, "Return me: shop visit")
    ui.wait_synced(page)
    approve_badge = ui.card(page, "Approve me").locator(".badge")
    expect(approve_badge).to_have_text(re.compile(r"^Synced \d\d:\d\d · Waiting for review$"))

    # The record reached the server 5 minutes before the review: the badge keeps that time when
    # the review arrives (it used to show when the phone last downloaded the record).
    ids = ids_by_summary(api)
    reached = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=5)

    def backdate(db):
        from server.db.models import Record

        db.session.get(Record, ids["Approve me: school gate chat"]).created_at = reached.replace(
            tzinfo=None
        )

    server_app(backdate)
    review(server_app, ids["Approve me: school gate chat"], "approved")
    review(server_app, ids["Return me: shop visit"], "returned", "Which shop? Add the place.")
    ui.sync_now(page)
    local = reached.astimezone(ZoneInfo("Europe/London"))
    today = datetime.now(ZoneInfo("Europe/London")).date() == local.date()
    when = local.strftime("%H:%M") if today else f"{local.day} {local:%b}, {local:%H:%M}"
    expect(approve_badge).to_have_text(f"Synced {when} · Approved")

    returned = ui.card(page, "Return me")
    expect(returned.locator(".badge")).to_have_text("Sent back — needs your fix")
    notice = returned.locator(".notice.review")
    expect(notice).to_contain_text(re.compile(r"Returned by your supervisor, Sgt Alpha, \d\d:\d\d"))
    expect(notice).to_contain_text("Which shop? Add the place.")
    # One count for the banner and the bar.
    banner = page.get_by_role("button", name=re.compile("1 record needs your attention"))
    expect(banner).to_be_visible()
    expect(page.locator("#sync-detail")).to_have_text(
        re.compile(r"^1 needs attention · last synced")
    )
    assert run_axe(page) == []
    screenshot(page, "returned-by")

    ui.edit_record(page, "Return me", summary="Return me: shop visit at the Co-op, High Street")
    ui.wait_synced(page)
    fixed = ui.card(page, "Co-op, High Street")
    expect(fixed.locator(".badge")).to_have_text(
        re.compile(r"^Synced \d\d:\d\d · Back with supervisor$")
    )
    expect(fixed.locator(".notice.resubmitted")).to_contain_text(
        "Fixed and back with Sgt Alpha for review"
    )
    expect(page.get_by_role("button", name=re.compile("need your attention"))).to_have_count(0)

    # "This phone" and the bar read the same clock.
    page.get_by_role("button", name="This phone").click()
    page.get_by_role("heading", name="This phone").wait_for()
    bar = page.locator("#sync-detail").inner_text()
    assert bar == f"Last synced {page.locator('#last-synced').inner_text()}", bar


def test_a_revoked_phone_says_saved_on_this_phone_and_why(phone, ui, server_app):
    from server.db.models import Device, User, utcnow

    page = ui.open(phone())
    ui.sign_in(page)

    def revoke(db):
        sergeant = db.session.scalar(select(User).where(User.username == "sgt.alpha"))
        officer = db.session.scalar(select(User).where(User.username == "pc.one"))
        for device in db.session.scalars(select(Device).where(Device.user_id == officer.id)):
            device.revoked_at, device.revoked_by_id = utcnow(), sergeant.id

    server_app(revoke)
    ui.sync_now(page)
    expect(page.locator(".banner-auth")).to_contain_text("A supervisor signed this phone out.")
    expect(page.locator(".banner-auth")).to_contain_text("Your records are kept on this phone")
    ui.new_record(page, "Recorded after a supervisor revoked the phone")
    expect(page.locator("#toast")).to_have_text(
        "Saved on this phone. A supervisor signed this phone out. It syncs once you sign in again."
    )
    page.locator(".banner-auth").get_by_role("button", name="Renew sign-in").click()
    page.get_by_role("heading", name="Sign in again").wait_for()
    expect(page.locator(".lede")).to_have_text("A supervisor signed this phone out.")
    expect(page.get_by_text("1 record not synced yet is safe on this phone")).to_be_visible()


def test_typed_work_is_kept_unless_discarded_and_drafts_head_the_log(phone, ui):
    page = ui.open(phone())
    ui.sign_in(page)
    page.get_by_role("button", name="New record").click()
    page.get_by_role("radio", name="Beat surgery").check()
    page.get_by_label("Summary").fill("Half-typed surgery note")
    page.get_by_role("button", name="Cancel").click()
    dialog = page.get_by_role("dialog", name="Discard this record?")
    dialog.get_by_role("button", name="Keep editing").click()
    expect(page.get_by_label("Summary")).to_have_value("Half-typed surgery note")
    page.get_by_role("button", name="Cancel").click()
    page.get_by_role("dialog").get_by_role("button", name="Keep as draft").click()
    page.get_by_role("heading", name="My log").wait_for()
    draft = page.locator("li.card.draft")
    expect(draft).to_have_count(1)
    expect(draft).to_contain_text("Unsaved new record: Beat surgery")
    expect(draft).to_contain_text("Half-typed surgery note")
    assert page.evaluate(
        "() => document.querySelector('.drafts').compareDocumentPosition("
        "document.querySelector('#log-list')) & Node.DOCUMENT_POSITION_FOLLOWING"
    )
    assert run_axe(page) == []
    screenshot(page, "drafts")

    draft.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="New record").wait_for()
    expect(page.get_by_label("Summary")).to_have_value("Half-typed surgery note")
    page.get_by_role("button", name="Cancel").click()
    page.get_by_role("dialog").get_by_role("button", name="Discard record").click()
    page.get_by_role("heading", name="My log").wait_for()
    expect(page.locator("li.card.draft")).to_have_count(0)

    # Nothing typed: Cancel leaves at once.
    page.get_by_role("button", name="New record").click()
    page.get_by_role("button", name="Cancel").click()
    page.get_by_role("heading", name="My log").wait_for()
    expect(page.get_by_role("dialog")).to_have_count(0)


def test_a_refused_record_opens_at_its_field_in_error(phone, ui):
    from test_pwa_rejected import TAMPER

    context = phone()
    page = ui.open(context)
    ui.sign_in(page)
    context.set_offline(True)
    ui.new_record(page, "Clock was wrong on this one")
    assert page.evaluate(TAMPER, "Clock was wrong on this one")
    page.reload()
    page.get_by_role("heading", name="My log").wait_for()
    context.set_offline(False)
    card = ui.card(page, "Clock was wrong")
    expect(card.locator(".badge")).to_have_text("Needs attention")
    card.get_by_role("button", name="Edit").click()
    page.get_by_role("heading", name="Edit record").wait_for()
    expect(page.get_by_label("When")).to_be_focused()
    box = page.locator("#err-occurred_at").bounding_box()
    bar = page.locator(".form-actions").bounding_box()
    assert box and 56 <= box["y"] and box["y"] + box["height"] <= bar["y"], (box, bar)


def test_sign_in_names_each_missing_field_and_an_unnamed_phone_gets_its_officers_name(
    phone, ui, server_app
):
    from server.db.models import Device, User

    page = ui.open(phone(user_agent=ANDROID))
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#si-user-error")).to_have_text("Enter your username.")
    expect(page.locator("#si-pass-error")).to_have_text("Enter your password.")
    expect(page.locator("#signin-error")).to_have_text("Enter your username. Enter your password.")
    expect(page.get_by_label("Username")).to_be_focused()
    expect(page.get_by_label("Username")).to_have_attribute("aria-invalid", "true")
    assert run_axe(page) == []
    screenshot(page, "sign-in-missing")
    page.get_by_label("Username").fill("pc.one")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signin-error")).to_have_text("Enter your password.")
    expect(page.get_by_label("Password")).to_be_focused()

    page.get_by_label("Password").fill(PASSWORD)
    expect(page.get_by_label("Device name")).to_have_value("")
    page.get_by_role("button", name="Sign in").click()
    ui.choose_pin_if_asked(page)
    page.get_by_role("button", name="This phone").click()
    name = page.get_by_label("Device name")
    expect(name).to_have_value("PC.ONE’s phone (Android Chrome)")

    def names(db):
        officer = db.session.scalar(select(User).where(User.username == "pc.one"))
        devices = select(Device).where(Device.user_id == officer.id)
        return [d.name for d in db.session.scalars(devices)]

    assert server_app(names) == ["PC.ONE’s phone (Android Chrome)"]
    name.fill("Van 3 phone")
    page.get_by_role("button", name="Rename").click()
    expect(page.get_by_text("Renamed.")).to_be_visible()
    assert server_app(names) == ["Van 3 phone"]


def test_search_runs_over_the_phones_records_offline_grouped_by_day(phone, ui):
    context = phone()
    page = ui.open(context)
    ui.sign_in(page)
    for summary in (
        "Zebra crossing near the school",
        "Litter by the Café on Mill Lane",
        "Parking on the zig-zags",
    ):
        ui.new_record(page, summary)
    ui.wait_synced(page)
    expect(page.locator("h2.day").first).to_have_text("Today · 3 records")
    context.set_offline(True)
    search = page.get_by_role("searchbox", name="Search records on this phone")
    search.fill("cafe mill")
    expect(page.locator("li.card")).to_have_count(1)
    expect(ui.card(page, "Café on Mill Lane")).to_be_visible()
    expect(page.locator(".count-note")).to_have_text("1 record matches")
    assert run_axe(page) == []
    screenshot(page, "search")
    search.fill("nothing like this")
    expect(page.get_by_text("No records match.")).to_be_visible()
    search.fill("")
    expect(page.locator("li.card")).to_have_count(3)
