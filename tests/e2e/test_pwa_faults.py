"""The phone's side of the fault tests (issue 14): storage full while saving, the tab killed in
the middle of a save, two tabs pushing one outbox. Nothing lost, nothing sent twice."""

from __future__ import annotations

import json
import random
import time

import pytest
from conftest import screenshot, wait_until
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

# Make IndexedDB writes to one store fail as a full disk does (QuotaExceededError), until
# window.__storageFull is false. The other writes of the same transaction go ahead until it
# throws, so a half-done save would show.
FILL_STORAGE = """([store, method]) => {
    window.__storageFull = true;
    const original = IDBObjectStore.prototype[method];
    IDBObjectStore.prototype[method] = function (...args) {
        if (window.__storageFull && this.name === store) {
            throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        }
        return original.apply(this, args);
    };
}"""

# The records, outbox and drafts as the unlocked app reads them (decrypted with its key).
READ_STORES = """async () => {
    const { openRow } = await import('/js/sealed.js');
    const names = ['records', 'outbox', 'drafts'];
    const rows = await new Promise((resolve, reject) => {
        const open = indexedDB.open('beatbook');
        open.onsuccess = () => {
            const db = open.result;
            const tx = db.transaction(names);
            const out = {};
            for (const name of names) {
                const req = tx.objectStore(name).getAll();
                req.onsuccess = () => { out[name] = req.result; };
            }
            tx.oncomplete = () => { db.close(); resolve(out); };
            tx.onerror = () => reject(tx.error);
        };
        open.onerror = () => reject(open.error);
    });
    const out = {};
    for (const name of names) out[name] = await Promise.all(rows[name].map((r) => openRow(name, r)));
    return out;
}"""


def _stores(page) -> dict:
    return page.evaluate(READ_STORES)


def _log_open(page, ui) -> None:
    """A new tab asks for the PIN (the key is held per tab); then the log."""
    log = page.get_by_role("heading", name="My log")
    pin = page.get_by_role("heading", name="Enter your PIN")
    log.or_(pin).wait_for()
    if pin.is_visible():
        ui.unlock(page)
    log.wait_for()


def _summary(doc: dict) -> str | None:
    """A local record's summary: the officer's own edit, else what the server holds."""
    for where in (doc.get("fields"), (doc.get("server") or {}).get("data")):
        if where and where.get("summary"):
            return where["summary"]
    return None


@pytest.mark.parametrize(
    "store, method",
    [("outbox", "add"), ("records", "put")],
    ids=["outbox entry", "record view"],
)
def test_storage_full_while_saving_keeps_the_form_and_writes_nothing(phone, ui, api, store, method):
    context = phone()
    page = ui.open(context)
    ui.sign_in(page)
    page.evaluate(FILL_STORAGE, [store, method])

    page.get_by_role("button", name="New record").click()
    page.get_by_role("radiogroup", name="Kind").get_by_role(
        "radio", name="Face-to-face contact", exact=True
    ).check()
    page.get_by_label("Summary").fill("Recorded with the phone full")
    page.get_by_role("button", name="Save").click()

    alert = page.locator("form .form-error[role=alert]")
    expect(alert).to_contain_text("this phone's storage is full")
    expect(page.get_by_role("heading", name="New record")).to_be_visible()
    expect(page.get_by_label("Summary")).to_have_value("Recorded with the phone full")
    expect(page.get_by_role("button", name="Save")).to_be_enabled()
    screenshot(page, f"storage-full-{store}")
    stores = _stores(page)
    assert stores["outbox"] == [], "an outbox entry without its record (or the reverse)"
    assert [_summary(r) for r in stores["records"]] == []

    page.evaluate("() => { window.__storageFull = false; }")  # space freed: Save again
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="My log").wait_for()
    ui.wait_synced(page)
    pulled = [r["data"]["summary"] for r in api().pull_all().values()]
    assert pulled == ["Recorded with the phone full"]


def test_storage_full_while_deleting_says_so_and_keeps_the_record(phone, ui, api):
    """A delete the phone cannot write tells the officer, and leaves the record and its queue
    as they were (it used to fail with no word, the record silently still there)."""
    context = phone()
    page = ui.open(context)
    ui.sign_in(page)
    ui.new_record(page, "Kept when the phone was full")
    ui.wait_synced(page)  # on the server, so a delete is a change to send (an outbox entry)
    context.set_offline(True)
    page.evaluate(FILL_STORAGE, ["outbox", "add"])

    ui.card(page, "Kept when the phone").get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.locator("#toast")).to_contain_text("Not deleted: this phone's storage is full")
    expect(ui.card(page, "Kept when the phone")).to_be_visible()
    assert ui.outbox(page) == []
    screenshot(page, "storage-full-delete")

    page.evaluate("() => { window.__storageFull = false; }")
    context.set_offline(False)
    ui.wait_synced(page)
    pulled = [r["data"]["summary"] for r in api().pull_all().values()]
    assert pulled == ["Kept when the phone was full"]


def _kill(page) -> None:
    """The tab goes at once, as when the phone's OS kills it: no unload handlers, no more
    JavaScript, and IndexedDB transactions not yet committed are aborted. (CDP's Page.crash
    left Playwright waiting for an answer from the dead renderer.)"""
    page.close(run_before_unload=False)


def test_a_tab_killed_in_the_middle_of_saves_keeps_record_and_outbox_together(phone, ui, api):
    """Save, then kill the tab a random few milliseconds later, again and again; each record is
    then either saved with its outbox entry or not saved at all (its typing kept as a draft),
    and what was saved reaches the server once."""
    rng = random.Random(14)
    context = phone()
    page = ui.open(context)
    ui.sign_in(page)
    context.set_offline(True)  # the saves stay on the phone until the end
    typed = []
    for n in range(8):
        if n:
            page = ui.open(context)
            _log_open(page, ui)
        page.get_by_role("button", name="New record").click()
        page.get_by_role("radiogroup", name="Kind").get_by_role(
            "radio", name="Face-to-face contact", exact=True
        ).check()
        typed.append(f"Killed mid-save {n}")
        page.get_by_label("Summary").fill(typed[-1])
        page.get_by_role("button", name="Save").click(no_wait_after=True)
        time.sleep(rng.uniform(0, 0.03))
        _kill(page)
        # Saved, or still there as the draft to finish (the next form opens on it, and its
        # typing replaces it: so each kill is judged before the next).
        page = ui.open(context)
        _log_open(page, ui)
        stores = _stores(page)
        saved = {_summary(r) for r in stores["records"]}
        drafts = {d["values"].get("summary") for d in stores["drafts"]}
        assert typed[-1] in saved | drafts, typed[-1]
        page.close()

    page = ui.open(context)
    _log_open(page, ui)
    stores = _stores(page)
    entries = {e["recordId"] for e in stores["outbox"]}
    saved = {r["id"]: _summary(r) for r in stores["records"]}
    assert set(saved) == entries, "a record without its outbox entry, or an entry without it"
    assert len(saved) == len(set(saved.values())), "a record saved twice"

    context.set_offline(False)
    ui.sync_now(page)
    ui.wait_synced(page)
    pulled = sorted(r["data"]["summary"] for r in api().pull_all().values())
    assert pulled == sorted(saved.values())


def test_two_tabs_pushing_one_outbox_send_each_change_once(phone, ui, api):
    context = phone()
    first = ui.open(context)
    ui.sign_in(first)
    second = ui.open(context)
    _log_open(second, ui)
    ui.wait_controlled(second)

    sent: list[tuple[str, str]] = []

    def slow_push(route):
        body = json.loads(route.request.post_data or "{}")
        sent.extend((c["id"], c["hlc"]) for c in body.get("changes", []))
        time.sleep(0.5)  # long enough for the other tab to try the same outbox meanwhile
        route.continue_()

    context.set_offline(True)
    for n, page in enumerate([first, second, first, second, first, second]):
        ui.new_record(page, f"Two tabs record {n}")
    context.route("**/api/v1/sync/push", slow_push)
    context.set_offline(False)  # both tabs see the signal come back and sync at once
    for page in (first, second):
        page.evaluate("() => window.dispatchEvent(new Event('online'))")
    for page in (first, second):
        ui.sync_now(page)
    for page in (first, second):
        ui.wait_synced(page)
    wait_until(first, "() => true")

    assert len(sent) == len(set(sent)), f"a change was sent twice: {sent}"
    assert len(sent) == 6
    pulled = sorted(r["data"]["summary"] for r in api().pull_all().values())
    assert pulled == sorted(f"Two tabs record {n}" for n in range(6))
    assert ui.outbox(first) == []
