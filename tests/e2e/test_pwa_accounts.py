"""Accounts on a phone: a revoked sign-in pauses sync without touching the queue; officers sharing
a phone never see or send each other's queue; signing out never silently drops a change."""

from __future__ import annotations

import time

import pytest
import requests
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

# The token is sealed under the officer's key: read it the way the unlocked app does.
READ_TOKEN = """async () => {
    const { openDb } = await import('/js/db.js');
    const { currentSession, openSession } = await import('/js/session.js');
    const db = await openDb();
    const session = await openSession(db, await currentSession(db));
    db.close();
    return session.token;
}"""


def test_revoked_token_pauses_sync_and_keeps_the_queue(phone, ui, api, server):
    context = phone()
    page = ui.open(context)
    ui.sign_in(page, "pc.one")
    token = page.evaluate(READ_TOKEN)
    revoked = requests.delete(
        f"{server.url}/api/v1/auth/device", timeout=10, headers={"Authorization": f"Bearer {token}"}
    )
    assert revoked.status_code == 204

    pushes = []
    context.on(
        "request", lambda r: pushes.append(r) if r.url.endswith("/api/v1/sync/push") else None
    )
    ui.new_record(page, "Recorded after the token was revoked")
    expect(page.locator(".banner-auth")).to_contain_text("This device was signed out")
    expect(ui.status(page)).to_have_text("Sign in again to sync")
    seen = len(pushes)
    assert seen == 1
    ui.sync_now(page)  # takes the officer to sign-in instead of calling the server
    page.get_by_role("heading", name="Sign in again").wait_for()
    expect(page.get_by_text("1 record not synced yet is safe on this phone")).to_be_visible()
    time.sleep(3)
    assert len(pushes) == seen, "a 401 is never retried"
    assert len(ui.outbox(page)) == 1

    # No signal to sign in with yet: the officer can go back to the log meanwhile.
    page.get_by_role("link", name="Back to my log").click()
    page.get_by_role("heading", name="My log").wait_for()
    expect(ui.card(page, "Recorded after the token was revoked")).to_be_visible()
    page.locator(".banner-auth").get_by_role("button", name="Renew sign-in").click()
    page.get_by_role("heading", name="Sign in again").wait_for()

    expect(page.get_by_label("Username")).to_have_value("pc.one")
    page.get_by_label("Password").fill("e2e-Password-4711")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="My log").wait_for()
    ui.wait_synced(page)
    expect(page.locator(".banner-auth")).to_have_count(0)
    summaries = [r["data"]["summary"] for r in api("pc.one").pull_all().values()]
    assert summaries == ["Recorded after the token was revoked"]


def test_shared_phone_keeps_queues_apart(phone, ui, api):
    context = phone()
    page = ui.open(context)
    ui.sign_in(page, "pc.one")
    context.set_offline(True)
    ui.new_record(page, "PC One's queued contact")
    expect(ui.status(page)).to_have_text("1 record waiting")

    page.get_by_role("button", name="This phone").click()
    page.get_by_role("button", name="Switch officer").click()
    page.get_by_role("heading", name="Sign in").wait_for()
    context.set_offline(False)
    ui.sign_in(page, "pc.two", device="Shared phone")
    expect(page.get_by_text("No records yet.")).to_be_visible()
    ui.new_record(page, "PC Two's contact")
    ui.wait_synced(page)
    # PC One's queue was neither shown nor sent.
    assert [r["data"]["summary"] for r in api("pc.two").pull_all().values()] == ["PC Two's contact"]
    assert len(ui.outbox(page)) == 1
    expect(ui.card(page, "PC One")).to_have_count(0)

    page.get_by_role("button", name="This phone").click()
    page.get_by_role("button", name="Switch officer").click()
    ui.sign_in(page, "pc.one", device="Shared phone")
    # PC One is back with the queued record, which now syncs; PC Two's record (same team) is
    # pulled as a team record, read-only, shown under "Whole team" (My log is PC One's own).
    expect(ui.card(page, "PC One's queued contact").locator(".badge")).to_contain_text("Synced")
    expect(ui.card(page, "PC Two's contact")).to_have_count(0)
    page.get_by_text("Whole team", exact=True).click()
    team_card = ui.card(page, "PC Two's contact")
    expect(team_card).to_contain_text("PC.TWO")
    expect(team_card.get_by_role("button", name="Edit")).to_have_count(0)
    assert ui.outbox(page) == []


def test_sign_out_warns_about_unsynced_changes(phone, ui, api):
    context = phone()
    page = ui.open(context)
    ui.sign_in(page, "pc.one")
    context.set_offline(True)
    ui.new_record(page, "Not yet synced at sign-out")
    page.get_by_role("button", name="This phone").click()
    page.get_by_role("button", name="Sign out").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("1 record not synced")
    # Offline, "sync and sign out" cannot sync: nothing is wiped.
    dialog.get_by_role("button", name="Sync and sign out").click()
    expect(page.locator("#toast")).to_contain_text("Could not sync everything")
    assert len(ui.outbox(page)) == 1

    # Ask again while still offline (back online, the app would sync at once and the dialog would
    # rightly have nothing left to warn about), then let the signal come back.
    page.get_by_role("button", name="Sign out").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("1 record not synced")
    context.set_offline(False)
    dialog.get_by_role("button", name="Sync and sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()
    assert ui.outbox(page) == []
    assert [r["data"]["summary"] for r in api("pc.one").pull_all().values()] == [
        "Not yet synced at sign-out"
    ]
    left = page.evaluate("""() => new Promise((resolve) => {
        const open = indexedDB.open('beatbook');
        open.onsuccess = () => {
            const db = open.result;
            const tx = db.transaction(['records', 'auth']);
            const out = {};
            tx.objectStore('records').count().onsuccess = (e) => { out.records = e.target.result; };
            tx.objectStore('auth').count().onsuccess = (e) => { out.auth = e.target.result; };
            tx.oncomplete = () => { db.close(); resolve(out); };
        };
    })""")
    assert left == {"records": 0, "auth": 0}
