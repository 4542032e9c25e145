"""Erasure in the console reaches the officer's phone (issue 13), in two browsers.

The officer records text naming a member of the public; the supervisor erases it in the
console; the phone's next sync replaces its cached copy with the marker, and IndexedDB no
longer holds the text anywhere the app stores records.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from test_console_review_journey import console_sign_in, desk  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e
NAME = "Bartholomew"
ERASED = "[Text erased on request]"

# Every value in every object store of the app's IndexedDB, as JSON text.
DUMP_IDB = """async () => {
  const names = (await indexedDB.databases()).map((d) => d.name);
  let out = '';
  for (const name of names) {
    const db = await new Promise((ok, no) => {
      const r = indexedDB.open(name); r.onsuccess = () => ok(r.result); r.onerror = no;
    });
    for (const store of db.objectStoreNames) {
      const rows = await new Promise((ok, no) => {
        const r = db.transaction(store).objectStore(store).getAll();
        r.onsuccess = () => ok(r.result); r.onerror = no;
      });
      out += JSON.stringify(rows);
    }
    db.close();
  }
  return out;
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
    stored = officer.evaluate(DUMP_IDB)
    assert ERASED in stored
    assert NAME not in stored, "the phone's IndexedDB still holds the erased text"
