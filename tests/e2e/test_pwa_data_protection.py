"""Data protection on the phone: the queue encrypted under a PIN, wrong PINs limited (then a
password sign-in reopens the queue, kept), signing out leaves nothing readable, and the form warns
about personal data before saving."""

from __future__ import annotations

import json
import re

import pytest
from conftest import PIN, screenshot
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

SECRET = "bike racks outside the Mill Lane chemist"
PLACE = "Corner of Mill Lane"

READ_TOKEN = """async () => {
    const { openDb } = await import('/js/db.js');
    const { currentSession, openSession } = await import('/js/session.js');
    const db = await openDb();
    const session = await openSession(db, await currentSession(db));
    db.close();
    return session.token;
}"""

# The idle window (IDLE_LOCK_MS) has passed: what the app holds in this tab has expired.
AGE_GRACE = """() => {
    const grace = JSON.parse(sessionStorage.getItem('beatbook-unlocked'));
    sessionStorage.setItem('beatbook-unlocked', JSON.stringify({...grace, until: Date.now() - 1}));
}"""


def _record(page, summary: str, place: str = "") -> None:
    page.get_by_role("button", name="New record").click()
    page.get_by_role("radiogroup", name="Kind").get_by_role(
        "radio", name="Face-to-face contact", exact=True
    ).check()
    page.get_by_label("Summary").fill(summary)
    if place:
        page.get_by_label("Place").fill(place)
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="My log").wait_for()


def _assert_nothing_in_clear(ui, page, *texts: str) -> dict:
    stored = ui.stored(page)
    dump = json.dumps(stored, ensure_ascii=False)
    for text in texts:
        assert text not in dump, f"{text!r} is in IndexedDB in clear"
    for store in ("records", "outbox", "drafts"):
        for row in stored[store]:
            assert set(row) <= {"user", "id", "seq", "recordId", "key", "sealed"}, row
    return stored


def test_pin_locks_the_encrypted_queue_offline_and_it_syncs(phone, ui, api):
    context = phone()
    page = ui.open(context)
    page.get_by_label("Username").fill("pc.one")
    page.get_by_label("Password").fill("e2e-Password-4711")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Choose a PIN").wait_for()
    page.get_by_label("PIN", exact=True).fill("123456")
    page.get_by_label("PIN again").fill("123456")
    page.get_by_role("button", name="Set PIN").click()
    expect(page.locator("#pin-error")).to_contain_text("run like 123456")
    page.get_by_label("PIN", exact=True).fill(PIN)
    page.get_by_label("PIN again").fill(PIN)
    screenshot(page, "choose-pin")
    page.get_by_role("button", name="Set PIN").click()
    page.get_by_role("heading", name="My log").wait_for()
    ui.wait_controlled(page)
    ui.wait_synced(page)
    token = page.evaluate(READ_TOKEN)
    assert len(token) > 20

    context.set_offline(True)
    _record(page, f"Spoke with staff about the {SECRET}", PLACE)
    expect(ui.status(page)).to_have_text("1 record waiting")
    _assert_nothing_in_clear(ui, page, SECRET, PLACE, token)

    # Opened again after the idle window, with no signal: the PIN is asked.
    page.evaluate(AGE_GRACE)
    page.reload()
    page.get_by_role("heading", name="Enter your PIN").wait_for()
    expect(page.get_by_text(SECRET)).to_have_count(0)
    page.get_by_label("PIN", exact=True).fill("000000")
    page.get_by_role("button", name="Unlock").click()
    expect(page.locator("#pin-error")).to_have_text("Wrong PIN. 4 tries left.")
    screenshot(page, "enter-pin")
    ui.unlock(page)
    page.get_by_role("heading", name="My log").wait_for()
    ui.card(page, SECRET).wait_for()
    expect(ui.status(page)).to_have_text("1 record waiting")

    # Still offline: record and edit as ever.
    _record(page, "Second offline contact: school gate")
    ui.edit_record(
        page, "Second offline contact", summary="Second offline contact: school gate, edited"
    )
    expect(ui.status(page)).to_have_text("2 records waiting")
    # Search and day grouping work over the decrypted copy.
    page.get_by_role("searchbox").fill("chemist")
    expect(page.locator("li.card")).to_have_count(1)
    page.get_by_role("searchbox").fill("")

    # Lock now (This phone): the PIN again, no reload needed.
    page.get_by_role("button", name="This phone").click()
    page.get_by_role("button", name="Lock now").click()
    ui.unlock(page)
    page.get_by_role("heading", name="My log").wait_for()

    # A new tab (the app opened afresh) asks the PIN again: the key was only in the other tab.
    other = context.new_page()
    other.goto("/")
    other.get_by_role("heading", name="Enter your PIN").wait_for()
    other.close()

    context.set_offline(False)
    ui.wait_synced(page)
    on_server = sorted(r["data"]["summary"] for r in api("pc.one").pull_all().values())
    assert on_server == [
        "Second offline contact: school gate, edited",
        f"Spoke with staff about the {SECRET}",
    ]
    # Synced and pulled back: the cached copies are sealed too.
    stored = _assert_nothing_in_clear(ui, page, SECRET, "school gate", PLACE, token)
    assert len(stored["records"]) == 2 and stored["outbox"] == []


def test_too_many_wrong_pins_need_the_password_and_keep_the_queue(phone, ui, api):
    context = phone()
    page = ui.open(context)
    ui.sign_in(page, "pc.one")
    context.set_offline(True)
    _record(page, f"Queued before the lock-out: {SECRET}")
    page.evaluate(AGE_GRACE)
    page.reload()
    for left in (4, 3, 2, 1):
        page.get_by_label("PIN", exact=True).fill("999999")
        page.get_by_role("button", name="Unlock").click()
        expect(page.locator("#pin-error")).to_contain_text(f"{left} tr")
    page.get_by_label("PIN", exact=True).fill("999999")
    page.get_by_role("button", name="Unlock").click()
    page.get_by_role("heading", name="Sign in again").wait_for()
    expect(page.get_by_text("Too many wrong PINs")).to_be_visible()
    [vault] = ui.stored(page)["keys"]
    assert vault["pin"] is None, "the PIN's copy of the key is gone"
    page.reload()
    page.get_by_role("heading", name="Sign in again").wait_for()

    context.set_offline(False)
    expect(page.get_by_label("Username")).to_have_value("pc.one")
    page.get_by_label("Password").fill("e2e-Password-4711")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Choose a PIN").wait_for()
    ui.choose_pin_if_asked(page, "305172")
    ui.wait_synced(page)
    assert [r["data"]["summary"] for r in api("pc.one").pull_all().values()] == [
        f"Queued before the lock-out: {SECRET}"
    ]
    page.evaluate(AGE_GRACE)
    page.reload()
    ui.unlock(page, "305172")
    ui.card(page, SECRET).wait_for()


def test_sign_out_and_switching_officer_leave_nothing_readable(phone, ui):
    context = phone()
    page = ui.open(context)
    ui.sign_in(page, "pc.one")
    context.set_offline(True)
    _record(page, f"PC One's queued: {SECRET}")
    page.get_by_role("button", name="This phone").click()
    page.get_by_role("button", name="Switch officer").click()
    page.get_by_role("heading", name="Sign in").wait_for()
    assert page.evaluate("() => sessionStorage.getItem('beatbook-unlocked')") is None
    stored = _assert_nothing_in_clear(ui, page, SECRET)
    assert len(stored["outbox"]) == 1, "PC One's queue is kept, sealed"

    context.set_offline(False)
    ui.sign_in(page, "pc.one", device="Shared phone")
    ui.wait_synced(page)
    page.get_by_role("button", name="This phone").click()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("dialog").get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()
    stored = ui.stored(page)
    for store in ("auth", "records", "outbox", "drafts", "keys"):
        assert stored[store] == [], store
    assert all(row["scope"] == "*" for row in stored["meta"])
    assert page.evaluate("() => sessionStorage.getItem('beatbook-unlocked')") is None


def test_personal_data_warning_edit_or_keep(phone, ui):
    context = phone()

    # The field as a server with the data protection schema lists it (the phone sends it only
    # where the server knows it).
    def with_field(route):
        response = route.fetch()
        body = response.json()
        body["record"].setdefault("pii_confirmed", {"type": "boolean", "required": False})
        route.fulfill(response=response, json=body)

    context.route("**/api/v1/schema", with_field)
    page = ui.open(context)
    ui.sign_in(page, "pc.one")
    context.set_offline(True)

    page.get_by_role("button", name="New record").click()
    page.get_by_role("radiogroup", name="Kind").get_by_role(
        "radio", name="Face-to-face contact", exact=True
    ).check()
    page.get_by_label("Summary").fill("Spoke to Mr Jones, call back on 07700 900123")
    page.get_by_role("button", name="Save").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Summary: a name and a phone number")
    screenshot(page, "personal-data-warning")
    dialog.get_by_role("button", name="Edit the text").click()
    expect(page.get_by_label("Summary")).to_be_focused()
    page.get_by_label("Summary").fill(
        "Spoke to a resident about the shop, call back on 07700 900123"
    )
    page.get_by_role("button", name="Save").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Summary: a phone number")
    dialog.get_by_role("button", name="Keep it and save").click()
    page.get_by_role("heading", name="My log").wait_for()

    _record(page, "Spoke with residents about parking outside the school.")
    entries = {e["data"]["summary"][:10]: e["data"] for e in ui.outbox(page)}
    assert entries["Spoke to a"]["pii_confirmed"] is True
    assert entries["Spoke with"]["pii_confirmed"] is False
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(ui.card(page, "07700 900123")).to_be_visible()
    assert re.search(r"1 record waiting|2 records waiting", ui.status(page).inner_text())


def _clear_app(pwa_dir) -> None:
    """Put the app as it was before the queue was encrypted (1.2: records in clear) in pwa_dir."""
    import io
    import shutil
    import subprocess
    import tarfile
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    added = subprocess.run(
        ["git", "log", "--diff-filter=A", "--format=%H", "--", "pwa/js/sealed.js"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if not added:
        pytest.skip("no git history to take the app from before the encryption")
    archive = subprocess.run(
        ["git", "archive", f"{added[-1]}^", "pwa"], cwd=repo, capture_output=True, check=True
    ).stdout
    shutil.rmtree(pwa_dir)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(pwa_dir.parent, filter="data")


def test_an_update_from_the_clear_queue_seals_it_without_loss(phone, ui, api, pwa_dir):
    import shutil
    from pathlib import Path

    current = Path(__file__).resolve().parents[2] / "pwa"
    _clear_app(pwa_dir)
    context = phone()
    page = ui.open(context)
    ui.sign_in(page, "pc.one")  # the old app asks no PIN
    assert page.evaluate("() => document.documentElement.dataset.version") == "1.2.0"
    context.set_offline(True)
    _record(page, f"Queued in clear by 1.2: {SECRET}", PLACE)
    _record(page, "Queued in clear by 1.2: second")
    assert SECRET in json.dumps(ui.stored(page)["outbox"]), "1.2 kept it in clear"

    # The server is busy before the phone is back in signal: online, the old app syncs at once,
    # and its queue must still be there for the new one to seal.
    context.route(
        "**/api/v1/sync/push",
        lambda route: route.fulfill(
            status=503,
            content_type="application/json",
            body='{"error": {"code": "unavailable", "message": "Try again later."}}',
        ),
    )
    context.set_offline(False)
    shutil.rmtree(pwa_dir)
    shutil.copytree(current, pwa_dir)
    page.get_by_role("button", name="This phone").click()
    page.get_by_role("button", name="Check for update").click()
    banner = page.locator(".banner-update")
    expect(banner).to_contain_text("A new version of Beatbook is ready", timeout=15000)
    with page.expect_event("load"):
        banner.get_by_role("button", name="Reload").click()
    page.get_by_role("heading", name="Choose a PIN").wait_for()
    expect(page.get_by_text("Choose a PIN to protect the ones already here")).to_be_visible()
    ui.choose_pin_if_asked(page)
    ui.card(page, SECRET).wait_for()
    expect(ui.status(page)).to_have_text("2 records waiting")
    _assert_nothing_in_clear(ui, page, SECRET, PLACE, "second")
    assert {e["data"]["summary"][:22] for e in ui.outbox(page)} == {"Queued in clear by 1.2"}

    context.unroute("**/api/v1/sync/push")
    ui.sync_now(page)
    ui.wait_synced(page)
    assert sorted(r["data"]["summary"] for r in api("pc.one").pull_all().values()) == [
        f"Queued in clear by 1.2: {SECRET}",
        "Queued in clear by 1.2: second",
    ]
