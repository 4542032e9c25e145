"""Accessibility (axe-core: no serious or critical violations) on the sign-in screen, the form
and My log, with screenshots at 360x740 for docs/screenshots/pwa-*.png."""

from __future__ import annotations

import re

import pytest
from conftest import run_axe
from conftest import screenshot as shot
from playwright.sync_api import expect
from sqlalchemy import select

pytestmark = pytest.mark.e2e

PAINT_AND_SHIFT = """() => new Promise((resolve) => {
    let cls = 0;
    new PerformanceObserver((list) => {
        for (const e of list.getEntries()) if (!e.hadRecentInput) cls += e.value;
    }).observe({type: 'layout-shift', buffered: true});
    setTimeout(() => {
        const fcp = performance.getEntriesByName('first-contentful-paint')[0];
        resolve({cls, fcp: fcp ? fcp.startTime : null});
    }, 1000);
})"""


def return_to_officer(server_app, record_id: str, comment: str) -> None:
    from server.db.models import User
    from server.records.review import review_record

    server_app(
        lambda db: review_record(
            db.session.scalar(select(User).where(User.username == "sgt.alpha")),
            record_id,
            "returned",
            comment,
        )
    )


def test_screens_are_accessible(phone, ui, api, server_app):
    context = phone()
    page = ui.open(context)
    page.get_by_role("heading", name="Sign in").wait_for()
    assert run_axe(page) == []
    shot(page, "sign-in")

    ui.sign_in(page, "pc.one", device="Pixel 7 (force)")
    ui.new_record(
        page,
        "Spoke with the manager of the Co-op about shoplifting at school "
        "closing time; agreed extra patrols 3-4pm.",
        people=3,
    )
    ui.new_record(
        page,
        "Beat surgery at the library: parking on Mill Lane raised again.",
        kind="Beat surgery",
        people=12,
    )
    ui.wait_synced(page)
    # The sergeant returns one: My log then shows it to fix, with a banner at the top.
    [coop] = [r["id"] for r in api("pc.one").pull_all().values() if "Co-op" in r["data"]["summary"]]
    return_to_officer(server_app, coop, "Which Co-op? Add the street, please.")
    ui.sync_now(page)
    expect(
        page.get_by_role("button", name=re.compile("1 record needs your attention"))
    ).to_be_visible()

    # Opening the app from its cache: quick first paint and no layout shift (the banner is drawn
    # with the first records, not after them).
    page.reload()
    page.get_by_role("heading", name="My log").wait_for()
    ui.card(page, "Beat surgery").wait_for()
    expect(ui.card(page, "Co-op").locator(".badge")).to_have_text("Sent back — needs your fix")
    paint = page.evaluate(PAINT_AND_SHIFT)
    print("first paint and layout shift", paint)
    assert paint["cls"] < 0.1, paint
    assert paint["fcp"] is not None and paint["fcp"] < 2000, paint

    context.set_offline(True)
    ui.new_record(page, "Chat with two residents at the bus stop about speeding vans.", people=2)
    expect(ui.status(page)).to_have_text("1 record waiting")
    assert run_axe(page) == []
    shot(page, "my-log")

    page.get_by_role("button", name="New record").click()
    page.get_by_role("radio", name="Key community leader contact").check()
    page.get_by_label("Summary").fill("Met the head teacher about parents parking on the zig-zags.")
    expect(page.get_by_label("Contact’s role")).to_be_visible()
    assert run_axe(page) == []
    shot(page, "form")
    page.get_by_role("button", name="Cancel").click()
    # Typed work is never thrown away without asking.
    dialog = page.get_by_role("dialog", name="Discard this record?")
    expect(dialog).to_be_visible()
    assert run_axe(page) == []
    dialog.get_by_role("button", name="Discard record").click()
    page.get_by_role("heading", name="My log").wait_for()

    page.get_by_role("button", name="This phone").click()
    page.get_by_role("heading", name="This phone").wait_for()
    page.get_by_role("heading", name="Storage").wait_for()
    page.get_by_text("Space used").wait_for()
    assert run_axe(page) == []
    shot(page, "this-phone")
