"""The server rejects one change of a batch: the others sync, the rejected one stays on the phone
with the server's reason next to the field until the officer fixes it."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import run_axe, screenshot
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

# A clock error the form cannot produce but a phone can (a stale outbox, a tampered store): the
# server refuses records more than 10 minutes in the future.
TAMPER = """async (summary) => {
    const { openDb, withTx } = await import('/js/db.js');
    const { sealedStore } = await import('/js/sealed.js');
    const db = await openDb();
    const future = '2099-01-01T10:00:00+00:00';
    await withTx(db, ['outbox', 'records'], 'readwrite', async (tx) => {
        const outbox = sealedStore(tx, 'outbox');
        const records = sealedStore(tx, 'records');
        for (const entry of await outbox.getAll()) {
            if (entry.data.summary !== summary) continue;
            await outbox.put({...entry, data: {...entry.data, occurred_at: future}});
            const doc = await records.get([entry.user, entry.recordId]);
            await records.put({...doc, occurred_at: future, fields: {...doc.fields, occurred_at: future}});
        }
    });
    db.close();
    return true;
}"""


def test_one_rejected_change_waits_for_a_fix(phone, ui, api):
    context = phone()
    page = ui.open(context)
    ui.sign_in(page, "pc.one")

    context.set_offline(True)
    ui.new_record(page, "Good one: school gate chat")
    ui.new_record(page, "Rejected one: clock was wrong")
    ui.new_record(page, "Good two: shop visit")
    assert page.evaluate(TAMPER, "Rejected one: clock was wrong")
    page.reload()
    page.get_by_role("heading", name="My log").wait_for()

    context.set_offline(False)
    bad = ui.card(page, "Rejected one")
    expect(bad.locator(".badge")).to_have_text("Needs attention")
    expect(bad.locator(".errors")).to_contain_text("When:")
    expect(bad.locator(".errors")).to_contain_text("future")
    expect(ui.status(page)).to_have_text("1 needs attention")
    expect(
        page.get_by_role("button", name=re.compile("1 record needs your attention"))
    ).to_be_visible()
    assert run_axe(page) == []
    screenshot(page, "sync-status")
    for good in ("Good one", "Good two"):
        expect(ui.card(page, good).locator(".badge")).to_contain_text("Synced")
    on_server = {r["data"]["summary"] for r in api("pc.one").pull_all().values()}
    assert on_server == {"Good one: school gate chat", "Good two: shop visit"}

    # A retry without a fix does not resend it; the record stays visible and counted.
    ui.sync_now(page)
    expect(bad.locator(".badge")).to_have_text("Needs attention")

    bad.get_by_role("button", name="Edit").click()
    when = page.get_by_label("When")
    expect(page.locator("#err-occurred_at")).to_contain_text("Server:")
    expect(when).to_have_attribute("aria-invalid", "true")
    assert run_axe(page) == []
    fixed = datetime.now(ZoneInfo("Europe/London")) - timedelta(hours=1)
    when.fill(fixed.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="My log").wait_for()
    ui.wait_synced(page)
    expect(ui.card(page, "Rejected one").locator(".badge")).to_contain_text("Synced")

    records = {r["data"]["summary"]: r for r in api("pc.one").pull_all().values()}
    assert set(records) == {
        "Good one: school gate chat",
        "Good two: shop visit",
        "Rejected one: clock was wrong",
    }
    occurred = datetime.fromisoformat(
        records["Rejected one: clock was wrong"]["data"]["occurred_at"]
    )
    assert abs(occurred - fixed.replace(second=0, microsecond=0)) < timedelta(minutes=1)
    assert ui.outbox(page) == []
