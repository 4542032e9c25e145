"""A new version of the app's shell is published while changes wait in the outbox: it installs in
the background, offers a reload, migrates the local database, and the queued changes survive and
sync."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import wait_until
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
OLD_VERSION = re.search(r"APP_VERSION = '([^']+)'", (REPO / "pwa/js/version.js").read_text())[1]
NEW_VERSION = f"{OLD_VERSION}-e2e-next"

# The new version also changes the database's shape: one more upgrade step (a new index).
NEW_STEP = """  (db, tx) => {
    tx.objectStore(STORES.records).createIndex('by_kind', ['user', 'kind']);
  },
];

export const DB_VERSION"""


def publish_new_version(pwa_dir) -> None:
    sw = pwa_dir / "sw.js"
    sw.write_text(
        re.sub(r"const VERSION = '[^']+'", f"const VERSION = '{NEW_VERSION}'", sw.read_text())
    )
    version = pwa_dir / "js" / "version.js"
    version.write_text(
        re.sub(r"APP_VERSION = '[^']+'", f"APP_VERSION = '{NEW_VERSION}'", version.read_text())
    )
    db = pwa_dir / "js" / "db.js"
    text = db.read_text()
    assert "];\n\nexport const DB_VERSION" in text
    db.write_text(text.replace("];\n\nexport const DB_VERSION", NEW_STEP, 1))


def test_shell_update_keeps_queued_changes(phone, ui, api, pwa_dir):
    context = phone()
    page = ui.open(context)
    ui.sign_in(page, "pc.one")
    assert page.evaluate("() => document.documentElement.dataset.version") == OLD_VERSION
    old_db_version = page.evaluate("""() => new Promise((resolve) => {
        const open = indexedDB.open('beatbook');
        open.onsuccess = () => { const v = open.result.version; open.result.close(); resolve(v); };
    })""")

    # The server is overloaded: pushes fail, so changes wait in the outbox.
    context.route(
        "**/api/v1/sync/push",
        lambda route: route.fulfill(
            status=503,
            content_type="application/json",
            body='{"error": {"code": "unavailable", "message": "Try again later."}}',
        ),
    )
    ui.new_record(page, "Queued before the update: market patrol", people=3)
    ui.new_record(page, "Queued before the update: school crossing")
    expect(ui.status(page)).to_have_text("2 records waiting")

    publish_new_version(pwa_dir)
    page.get_by_role("button", name="This phone").click()
    page.get_by_role("button", name="Check for update").click()
    banner = page.locator(".banner-update")
    expect(banner).to_contain_text("A new version of Beatbook is ready", timeout=15000)
    # Still the old version until the officer chooses to reload.
    assert page.evaluate("() => document.documentElement.dataset.version") == OLD_VERSION
    expect(ui.status(page)).to_have_text("2 records waiting")

    with page.expect_event("load"):
        banner.get_by_role("button", name="Reload").click()
    page.get_by_role("heading", name="This phone").wait_for()
    page.get_by_role("button", name="Back to My log").click()
    page.get_by_role("heading", name="My log").wait_for()
    wait_until(page, f"() => document.documentElement.dataset.version === '{NEW_VERSION}'")
    caches = wait_until(
        page,
        """async () => {
        const keys = await caches.keys();
        return keys.length === 1 ? keys : null;
    }""",
    )
    assert caches == [f"beatbook-shell-{NEW_VERSION}"]
    shape = page.evaluate("""() => new Promise((resolve) => {
        const open = indexedDB.open('beatbook');
        open.onsuccess = () => {
            const db = open.result;
            const tx = db.transaction(['records', 'outbox']);
            const out = {version: db.version, indexes: [...tx.objectStore('records').indexNames]};
            tx.objectStore('outbox').count().onsuccess = (e) => { out.outbox = e.target.result; };
            tx.oncomplete = () => { db.close(); resolve(out); };
        };
    })""")
    assert shape == {
        "version": old_db_version + 1,
        "indexes": ["by_kind", "by_user_time"],
        "outbox": 2,
    }
    for text in ("market patrol", "school crossing"):
        expect(ui.card(page, text).locator(".badge")).to_have_text("Pending")

    context.unroute("**/api/v1/sync/push")
    ui.sync_now(page)
    ui.wait_synced(page)
    summaries = {r["data"]["summary"] for r in api("pc.one").pull_all().values()}
    assert summaries == {
        "Queued before the update: market patrol",
        "Queued before the update: school crossing",
    }
