"""Single sign-on in a real browser through a real provider (tests/oidc/provider.mjs, the npm
package oidc-provider): a supervisor into the console, an officer into the app at 360x740 who
records offline and syncs, then is disabled at the provider and gets the sign-in screen at the
next sync with the queue kept. Screenshots go to $TMPDIR/beatbook-screenshots."""

from __future__ import annotations

import shutil
import sqlite3

import pytest
from conftest import PHONE, SHOTS, LiveServer, run_axe, screenshot, wait_until
from oidc_provider import PROVIDER_PASSWORD, Provider
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


@pytest.fixture
def sso(seeded_db, tmp_path, pwa_dir):
    """The live server with single sign-on through a provider started for it."""
    db_path = tmp_path / "beatbook.sqlite"
    shutil.copy(seeded_db, db_path)
    live = LiveServer(db_path, pwa_dir, tmp_path / "server.log")
    provider = Provider(
        [f"{live.url}/oidc/callback"],
        backchannel_uri=f"{live.url}/oidc/backchannel-logout",
        log=tmp_path / "provider.log",
    ).start()
    config = provider.config(tmp_path / "oidc-mapping.json")
    live.env.update({f"BEATBOOK_{key}": value for key, value in config.items()})
    live.start()
    yield live, provider
    live.stop()
    provider.stop()


def _context(browser, base_url, **options):
    context = browser.new_context(
        base_url=base_url,
        service_workers="allow",
        locale="en-GB",
        timezone_id="Europe/London",
        **options,
    )
    context.set_default_timeout(15000)
    return context


def _at_the_provider(page, login: str) -> None:
    page.get_by_role("heading", name="Force sign-in").wait_for()
    page.get_by_label("Username").fill(login)
    page.get_by_label("Password").fill(PROVIDER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_supervisor_signs_in_to_the_console_through_the_provider(browser, sso):
    live, _provider = sso
    context = _context(browser, live.url, viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.goto("/console/records")
        page.get_by_role("link", name="Sign in with Test Constabulary").click()
        _at_the_provider(page, "sgt.oidc")
        page.wait_for_url(f"{live.url}/console/records*")
        expect(page.locator(".who")).to_have_text("Sgt Oidc")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "sso-console.png"))
    finally:
        context.close()


def test_someone_without_a_beatbook_group_sees_whom_to_ask(browser, sso):
    live, _provider = sso
    context = _context(browser, live.url, viewport=PHONE)
    try:
        page = context.new_page()
        page.goto("/console/sign-in")
        page.get_by_role("link", name="Sign in with Test Constabulary").click()
        _at_the_provider(page, "civ.nogroup")
        page.get_by_role("heading", name="You do not have access to Beatbook yet").wait_for()
        expect(page.get_by_role("alert")).to_contain_text("IT service desk (ext. 4711)")
        page.screenshot(path=str(SHOTS / "sso-unmapped.png"))
    finally:
        context.close()


def _backdate_check(db_path) -> None:
    """An hour passes: the next sync asks the provider about the account again."""
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE user_account SET oidc_checked_at = '2000-01-01 00:00:00.000000'")


def test_an_officer_signs_in_records_offline_and_is_shut_out_when_disabled(browser, sso, ui):
    live, provider = sso
    context = _context(browser, live.url, viewport=PHONE)
    try:
        page = context.new_page()
        page.goto("/")
        page.get_by_role("heading", name="Sign in").wait_for()
        sso_button = page.get_by_role("button", name="Sign in with Test Constabulary")
        sso_button.wait_for()
        assert run_axe(page) == []
        sso_button.click()
        _at_the_provider(page, "pc.oidc")
        ui.choose_pin_if_asked(page)  # the queue's PIN, as after a password sign-in
        ui.wait_controlled(page)
        ui.wait_synced(page)
        expect(page.locator("#who")).to_have_text("NPT-A")

        context.set_offline(True)
        ui.new_record(page, "Spoke to the shopkeepers on the high street")
        expect(ui.status(page)).not_to_have_text("All changes synced")
        assert len(ui.outbox(page)) == 1
        context.set_offline(False)
        ui.wait_synced(page)
        assert ui.outbox(page) == []

        # IT disables the account; the phone records on, offline, then comes back into signal.
        provider.disable("pc.oidc")
        context.set_offline(True)
        ui.new_record(page, "Recorded after the account was disabled")
        _backdate_check(live.db_path)
        context.set_offline(False)
        expect(page.locator(".banner-auth")).to_contain_text("no longer vouches", timeout=20000)
        ui.sync_now(page)
        page.get_by_role("heading", name="Sign in again").wait_for()
        expect(page.get_by_text("1 record not synced yet is safe on this phone")).to_be_visible()
        assert len(ui.outbox(page)) == 1
        screenshot(page, "sso-sign-in-again")

        # Disabled at the provider, the way back is shut there too.
        page.get_by_role("button", name="Sign in with Test Constabulary").click()
        page.get_by_role("heading", name="Force sign-in").wait_for()
        page.get_by_label("Username").fill("pc.oidc")
        page.get_by_label("Password").fill(PROVIDER_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("This account is disabled")

        # Re-enabled (a mistake put right): the same officer signs in and the queue goes up.
        provider.enable("pc.oidc")
        page.goto("/")
        page.get_by_role("heading", name="My log").wait_for()
        page.locator(".banner-auth").get_by_role("button", name="Renew sign-in").click()
        page.get_by_role("button", name="Sign in with Test Constabulary").click()
        # Still signed in at the provider (the refused attempt above): no page, straight back.
        ui.choose_pin_if_asked(page)
        ui.wait_synced(page)
        assert ui.outbox(page) == []
        wait_until(page, "() => !location.hash.includes('sso')")
    finally:
        context.close()
    with sqlite3.connect(live.db_path) as conn:
        summaries = sorted(r[0] for r in conn.execute("SELECT summary FROM record"))
        actions = [r[0] for r in conn.execute("SELECT action FROM access_log ORDER BY id")]
    assert summaries == [
        "Recorded after the account was disabled",
        "Spoke to the shopkeepers on the high street",
    ]
    assert "deactivate_officer" in actions and "activate_user" in actions
    assert actions.count("sso_sign_in") == 2


def test_a_sign_in_link_sent_to_a_phone_that_did_not_start_one_is_refused(browser, sso):
    """Someone signs in as themselves and sends the code's link to a colleague: the colleague's
    app did not start a sign-in, so it does not sign that phone in as them."""
    live, _provider = sso
    sender = _context(browser, live.url, viewport=PHONE)
    phone = _context(browser, live.url, viewport=PHONE)
    try:
        page = sender.new_page()
        codes: list[str] = []
        page.on(
            "response",
            lambda r: (
                codes.append(r.headers["location"])
                if "/#/sso/" in r.headers.get("location", "")
                else None
            ),
        )
        page.goto("/oidc/start?to=app")  # the server's start, not the app's button
        _at_the_provider(page, "pc.oidc")
        wait_until(page, "() => location.hash.startsWith('#/signin')")
        assert codes, "the provider's answer should have carried a code"
        victim = phone.new_page()
        victim.goto("/")
        victim.get_by_role("heading", name="Sign in").wait_for()
        victim.goto(codes[0])
        expect(victim.get_by_text("This sign-in was not started on this phone")).to_be_visible()
        expect(victim.get_by_role("heading", name="My log")).to_have_count(0)
    finally:
        sender.close()
        phone.close()
