"""Erasure in the console reaches the officer's phone (issue 13), in two browsers.

The officer records text naming a member of the public; the supervisor erases it in the
console; the phone's next sync replaces its cached copy with the marker (read through the
app's decryption), and no store of IndexedDB holds the text.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from test_console_review_journey import console_sign_in, desk  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e
NAME = "Bartholomew"
ERASED = "[Text erased on request]"

# The phone's records as the unlocked app reads them (decrypted with the key it holds).
OPENED_RECORDS = """async () => {
  const { openRow } = await import('/js/sealed.js');
  const rows = await new Promise((ok, no) => {
    const r = indexedDB.open('beatbook');
    r.onsuccess = () => {
      const q = r.result.transaction('records').objectStore('records').getAll();
      q.onsuccess = () => { r.result.close(); ok(q.result); }; q.onerror = no;
    };
    r.onerror = no;
  });
  return JSON.stringify(await Promise.all(rows.map((row) => openRow('records', row))));
}"""


def test_erasure_reaches_the_phone_and_its_cached_copy(phone, desk, ui):  # noqa: F811
    officer = ui.open(phone())
    ui.sign_in(officer, "pc.one", device="Officer's phone")
    ui.new_record(officer, f"Spoke to {NAME} about his van parked on the verge")
    ui.wait_synced(officer)
    expect(ui.card(officer, NAME)).to_be_visible()

    sergeant = desk.new_page()
    console_sign_in(sergeant)
    sergeant.locator("table.records tbody tr").get_by_role("link", name=re.compile(NAME)).click()
    sergeant.locator("#erase-reason").fill("names a member of the public")
    form = sergeant.locator("#data-protection form").first
    form.get_by_label("I understand this cannot be undone").check()
    form.get_by_role("button", name="Erase the text").click()
    expect(sergeant.get_by_role("status").filter(has_text="was erased")).to_be_visible()
    expect(sergeant.locator("#record-fields")).to_contain_text(ERASED)
    expect(sergeant.locator("#record-fields")).not_to_contain_text(NAME)

    ui.sync_now(officer)
    expect(ui.card(officer, ERASED)).to_be_visible()
    expect(officer.get_by_text(NAME)).to_have_count(0)
    opened = officer.evaluate(OPENED_RECORDS)
    assert ERASED in opened
    assert NAME not in opened, "the phone's cached copy still holds the erased text"
    assert NAME not in str(ui.stored(officer)), "the phone's IndexedDB still holds the text"
