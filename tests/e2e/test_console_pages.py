"""Every console page in a real browser on the demo force, at desktop and phone width: no
horizontal scrolling at 360 px, no accessibility faults axe-core finds (of any impact, minor
included), no CSP violations, and screenshots (docs/screenshots/console-*.png with
BEATBOOK_SCREENSHOTS=1)."""

from __future__ import annotations

import re

import pytest
from conftest import EVERY_IMPACT, REPO, SHOTS, LiveServer, run_axe
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e
DEMO_PASSWORD = "beatbook-demo"
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 360, "height": 740}}


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """The demo force (3 months of records, through the real push path) behind gunicorn."""
    from server import create_app
    from server.db import db
    from server.db.create import init_db
    from server.demo import seed_demo

    folder = tmp_path_factory.mktemp("console-demo")
    path = folder / "beatbook.sqlite"
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "e2e", "TESTING": True})
    with app.app_context():
        init_db()
        seed_demo(months=3)
        _quiet_phones(db)
        db.session.remove()
        db.engine.dispose()
    live = LiveServer(path, REPO / "pwa", folder / "server.log")
    live.start()
    yield live
    live.stop()


def _quiet_phones(db) -> None:
    """Phones as a week in service leaves them: a spare left in a drawer for four days holding
    3 unsynced changes (an alert), and one officer's phone not synced for ten days."""
    from datetime import timedelta

    import sqlalchemy as sa

    from server.db.models import Device, User, utcnow

    spare = db.session.scalar(sa.select(Device).where(Device.name.like("%spare phone")))
    spare.last_sync_at = spare.last_seen_at = utcnow() - timedelta(days=4)
    spare.pending = 3
    reid = db.session.scalar(
        sa.select(Device).join(User, User.id == Device.user_id).where(User.username == "pcso.reid")
    )
    reid.last_sync_at = utcnow() - timedelta(days=10)
    db.session.commit()


def _pages(page) -> dict[str, str]:
    """name -> path, found by clicking through as a user would."""
    page.goto("/console/conflicts")
    record = page.locator("article.conflict h2 a").first.get_attribute("href")
    page.goto("/console/teams")
    person = page.get_by_role("link", name="PC 3310 Okafor").get_attribute("href")
    page.goto("/console/priorities/NPT-WEY")
    priority = page.locator("table.records tbody a").first.get_attribute("href")
    return {
        "records": "/console/records",
        "alerts": "/console/alerts",
        "records-filtered": "/console/records?q=parking&review=pending",
        "record": record,
        "conflicts": "/console/conflicts",
        "teams": "/console/teams",
        "person": person,
        "phones": "/console/phones",
        "activity": "/console/activity",
        "access-log": "/console/access-log",
        "priorities": "/console/priorities/NPT-WEY",
        "priority-edit": priority,
    }


def _sign_in(page, username: str) -> None:
    page.goto("/console/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/console/**")


@pytest.mark.parametrize("size", list(SIZES))
def test_every_page_fits_reads_and_screenshots(browser, demo_server, size):
    context = browser.new_context(
        viewport=SIZES[size], base_url=demo_server.url, locale="en-GB", timezone_id="Europe/London"
    )
    context.set_default_timeout(15000)
    page = context.new_page()
    csp_errors: list[str] = []
    page.on(
        "console",
        lambda msg: csp_errors.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        page.goto("/console/sign-in")
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        assert run_axe(page, EVERY_IMPACT) == []
        page.screenshot(path=str(SHOTS / f"console-sign-in-{size}.png"))
        _sign_in(page, "admin")
        for name, path in _pages(page).items():
            page.goto(path)
            expect(page.locator("h1")).to_be_visible()
            assert (
                page.evaluate("() => document.documentElement.scrollWidth") <= SIZES[size]["width"]
            ), name
            assert run_axe(page, EVERY_IMPACT) == [], name
            page.screenshot(path=str(SHOTS / f"console-{name}-{size}.png"), full_page=False)
        assert csp_errors == []
    finally:
        context.close()


def test_panel_sees_only_assessment_in_the_menu(browser, demo_server):
    context = browser.new_context(viewport=SIZES["desktop"], base_url=demo_server.url)
    page = context.new_page()
    try:
        _sign_in(page, "panel")
        page.goto("/console/records")
        expect(page.get_by_role("heading", name="Not for your role")).to_be_visible()
        nav = page.get_by_role("navigation", name="Console")
        expect(nav.get_by_role("link")).to_have_text(["Assessment"])
    finally:
        context.close()


def test_a_supervisor_dismisses_an_alert_with_a_note(browser, demo_server):
    context = browser.new_context(viewport=SIZES["phone"], base_url=demo_server.url, locale="en-GB")
    context.set_default_timeout(15000)
    page = context.new_page()
    try:
        _sign_in(page, "sgt.patel")
        panel = page.locator("section.alerts-panel")
        expect(panel.get_by_role("heading", name=re.compile(r"Alerts \(\d+\)"))).to_be_visible()
        first = panel.locator("li.alert-item").first
        title = first.locator(".alert-title strong").inner_text()
        first.locator("summary", has_text="Dismiss").click()
        first.get_by_label(re.compile("Why it can be dismissed")).fill(
            "Covered at Monday's briefing"
        )
        page.screenshot(path=str(SHOTS / "console-alert-dismiss-phone.png"))
        first.get_by_role("button", name="Dismiss alert").click()
        expect(page.locator(".flash-ok")).to_contain_text("Alert dismissed")
        assert title not in [
            t.strip()
            for t in page.locator("section.alerts-panel .alert-title strong").all_inner_texts()
        ]
        assert run_axe(page, EVERY_IMPACT) == []
    finally:
        context.close()


def test_revoking_a_phone_asks_first_and_says_what_it_holds(browser, demo_server):
    """Revoking cannot be undone from the console: the button asks, naming the unsynced changes
    the phone holds; cancelling leaves the phone in use. Runs last: it revokes the spare."""
    context = browser.new_context(viewport=SIZES["phone"], base_url=demo_server.url)
    page = context.new_page()
    try:
        _sign_in(page, "admin")
        page.goto("/console/teams")
        page.get_by_role("link", name="PC 3310 Okafor").click()
        spare = page.get_by_role("row").filter(has_text="spare phone")
        messages: list[str] = []

        def answer(dialog, accept: bool) -> None:
            messages.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        page.once("dialog", lambda d: answer(d, False))
        spare.get_by_role("button", name="Revoke").click()
        expect(spare).to_contain_text("In use")
        assert "3 unsynced changes, which stay on the phone" in messages[0]

        page.once("dialog", lambda d: answer(d, True))
        spare.get_by_role("button", name="Revoke").click()
        expect(page.get_by_role("row").filter(has_text="spare phone")).to_contain_text("Revoked")
        assert len(messages) == 2
    finally:
        context.close()
