"""The priority loop in the officers' app (issue 15) at 360x740: with no signal an officer records
an engagement with a concern, a local priority set from it, an action for the priority and public
feedback on it; back in signal it all syncs, and once a supervisor approves, the team's public
page shows the priority in "You said, we did". The server's alerts (injected into the last pull
page) are shown on My log, and still after a reload with no signal."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests
from conftest import SHOTS, TEAM, run_axe, wait_until
from playwright.sync_api import expect
from sqlalchemy import select

from schema.records import PRIORITY_FIELDS

pytestmark = pytest.mark.e2e

PRIORITY_TITLE = "Speeding on Dorchester Road"
FEEDBACK_TEXT = "You told us cars race past the school: we ran speed checks every week in November."


def shot(page, name: str, at=None) -> None:
    """Save docs/screenshots/<name>.png (when BEATBOOK_SCREENSHOTS=1) once the toast has gone,
    with `at` in view, else from the top."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    expect(page.locator("#toast")).not_to_have_class(re.compile(r"\bshow\b"), timeout=8000)
    if at is None:
        page.evaluate("() => window.scrollTo(0, 0)")
    else:
        at.evaluate("(el) => el.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def review(server_app, record_id: str, state: str) -> None:
    from server.db.models import User
    from server.records.review import review_record

    def act(db):
        sergeant = db.session.scalar(select(User).where(User.username == "sgt.alpha"))
        review_record(sergeant, record_id, state, "")

    server_app(act)


def choose_kind(page, kind: str) -> None:
    page.get_by_role("button", name="New record").click()
    page.get_by_role("radiogroup", name="Kind").get_by_role("radio", name=kind, exact=True).check()


def save(page) -> None:
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="My log").wait_for()


def test_the_loop_offline_then_synced_and_public(phone, ui, api, server, server_app):
    context = phone()
    page = ui.open(context)
    ui.sign_in(page, "pc.one")
    context.set_offline(True)

    # An engagement where residents raised a concern (added, a stray row removed).
    choose_kind(page, "Face-to-face contact")
    page.get_by_label("Summary").fill("Residents at the school gate about traffic")
    page.get_by_role("button", name="Add a concern").click()
    page.get_by_label("Concern 1: category").select_option(label="Speeding")
    page.get_by_label("Concern 1 in a few words").fill("cars racing past the school at home time")
    page.get_by_role("button", name="Add a concern").click()
    expect(page.get_by_label("Concern 2: category")).to_be_focused()
    page.get_by_role("button", name="Remove concern 2").click()
    expect(page.get_by_label("Concern 2: category")).to_have_count(0)
    assert run_axe(page) == []
    shot(page, "pwa-concern", page.locator("#wrap-concerns"))
    save(page)

    # The priority set from it: only its own kind shows its fields.
    page.get_by_role("button", name="New record").click()
    expect(page.get_by_label("Priority (as the public reads it)")).to_be_hidden()
    page.get_by_role("radiogroup", name="Kind").get_by_role(
        "radio", name="Local priority", exact=True
    ).check()
    expect(page.get_by_label("For priority")).to_be_hidden()
    page.get_by_label("Priority (as the public reads it)").fill(PRIORITY_TITLE)
    page.get_by_label("Status", exact=True).select_option(label="In progress")
    expect(page.get_by_label("Ended on")).to_be_hidden()
    page.get_by_label("Review by").fill("2027-01-31")
    expect(page.get_by_label("Owner")).to_have_value(
        re.compile(r"^\d+$")
    )  # the officer, by default
    expect(page.get_by_label("Owner").locator("option:checked")).to_have_text("PC.ONE")
    page.get_by_role("checkbox", name=re.compile("Residents at the school gate")).check()
    page.get_by_label("Summary").fill("Set with residents after the school gate chat")
    page.locator("#f-public").check()
    assert run_axe(page) == []
    # A priority's own fields are taller than the screen: a taller phone shows them all.
    page.set_viewport_size({"width": 360, "height": 1060})
    shot(page, "pwa-priority", page.locator(".priority-fields"))
    page.set_viewport_size({"width": 360, "height": 740})
    save(page)

    # An action for it, and public feedback on it.
    choose_kind(page, "Partner meeting")
    page.get_by_label("Summary").fill("Speed checks planned with the council road safety team")
    page.get_by_label("For priority").select_option(label=PRIORITY_TITLE)
    save(page)
    choose_kind(page, "Feedback to the public")
    page.get_by_label("Summary").fill(FEEDBACK_TEXT)
    page.get_by_label("For priority").select_option(label=PRIORITY_TITLE)
    expect(page.locator("#f-priority_id-hint")).to_contain_text("public page")
    page.locator("#f-public").check()
    assert run_axe(page) == []
    shot(page, "pwa-feedback-linked", page.locator("#wrap-priority_id"))
    save(page)
    expect(ui.status(page)).to_have_text("4 records waiting")
    expect(ui.card(page, "Speed checks planned")).to_contain_text(f"For priority: {PRIORITY_TITLE}")
    shot(page, "pwa-loop-log", page.locator("#log-list"))

    context.set_offline(False)
    ui.wait_synced(page)
    on_server = {r["data"]["kind"]: r for r in api("pc.one").pull_all().values()}
    contact, priority = on_server["face_to_face"], on_server["local_priority"]
    action, feedback = on_server["partner_meeting"], on_server["feedback"]
    assert contact["data"]["concerns"] == [
        {"category": "speeding", "phrase": "cars racing past the school at home time"}
    ]
    p = priority["data"]
    assert p["title"] == PRIORITY_TITLE and p["priority_status"] == "in_progress"
    assert p["review_by"] == "2027-01-31" and p["concern_record_ids"] == [contact["id"]]
    assert p["owner_id"] == priority["officer"]["id"] and p.get("meeting_id") is None
    assert action["data"]["priority_id"] == priority["id"]
    assert feedback["data"]["priority_id"] == priority["id"] and feedback["data"]["public"]
    for record in (contact, action, feedback):
        assert not [f for f in PRIORITY_FIELDS if record["data"].get(f) not in (None, "", [])]

    # A supervisor approves the priority and the feedback: the public page tells the loop.
    for record in (priority, feedback):
        review(server_app, record["id"], "approved")
    body = requests.get(f"{server.url}/teams/{TEAM}", timeout=10).text
    said = body[body.index("You said, we did") :]
    assert PRIORITY_TITLE in said and FEEDBACK_TEXT.split(":")[0] in said
    public = context.new_page()
    public.goto(f"/teams/{TEAM}")
    section = public.locator("section[aria-labelledby='h-feedback']")
    expect(section.get_by_role("heading", name=PRIORITY_TITLE)).to_be_visible()
    expect(section).to_contain_text("Partner meeting")
    expect(section).to_contain_text("we ran speed checks")
    section.scroll_into_view_if_needed()
    public.wait_for_timeout(200)
    SHOTS.mkdir(parents=True, exist_ok=True)
    section.screenshot(path=str(SHOTS / "public-loop-after-sync.png"))
    # The same page on a desktop: it fits, and the loop reads the same.
    public.set_viewport_size({"width": 1280, "height": 800})
    assert public.evaluate("() => document.documentElement.scrollWidth") <= 1280
    expect(section.get_by_role("heading", name=PRIORITY_TITLE)).to_be_visible()
    section.scroll_into_view_if_needed()
    section.screenshot(path=str(SHOTS / "public-loop-after-sync-desktop.png"))
    public.close()

    # Resolving it needs the day it ended; the edit sends just the status and that day.
    ui.card(page, "Set with residents").get_by_role("button", name="Edit").click()
    page.get_by_label("Status", exact=True).select_option(label="Resolved")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#err-closed_on")).to_have_text("Enter the day it ended.")
    expect(page.get_by_label("Why closed without action")).to_be_hidden()
    today = datetime.now(ZoneInfo("Europe/London")).date().isoformat()  # the phone's day
    page.get_by_label("Ended on").fill(today)
    save(page)
    expect(ui.card(page, "Set with residents")).to_contain_text(f"{PRIORITY_TITLE} · Resolved")
    ui.wait_synced(page)
    resolved = api("pc.one").pull_all()[priority["id"]]["data"]
    assert (resolved["priority_status"], resolved["closed_on"]) == ("resolved", today)
    expect(ui.card(page, "school gate about traffic")).to_contain_text("Concerns: Speeding")
    # The officer's log of the loop on a desktop (a supervisor's laptop running the app).
    page.set_viewport_size({"width": 1280, "height": 800})
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1280
    assert run_axe(page) == []
    shot(page, "pwa-loop-log-desktop", page.locator("#log-list"))


def test_alerts_from_the_last_pull_are_kept_and_shown_offline(phone, ui, api, server):
    context = phone()
    page = ui.open(context)
    ui.sign_in(page, "pc.one")
    mine = api("pc.one").create_record("Speeding chat at the school gate")
    theirs = api("pc.two").create_record("Team member's patrol of Dorchester Road")
    alerts = [
        {
            "id": "a1",
            "rule": "priority_review_due",
            "standard": "LP",
            "team": TEAM,
            "title": "A priority is past its review date",
            "detail": "Speeding on Dorchester Road was due for review on 20 November.",
            "officer_id": None,
            "record_ids": [mine, theirs, "00000000-0000-4000-8000-00000000dead"],
            "due": "2026-11-20",
        },
        {
            "id": "a2",
            "rule": "no_feedback",
            "standard": None,
            "team": TEAM,
            "title": "No public feedback this month",
            "detail": "Tell the public what was done about a priority.",
            "officer_id": None,
            "record_ids": [],
            "due": None,
        },
    ]
    inject = {"on": True}

    def with_alerts(route):
        response = route.fetch()
        body = response.json()
        # The server's own alerts are replaced by these, or taken out: a page without the key.
        body.pop("alerts", None)
        if inject["on"] and not body["more"]:
            body["alerts"] = alerts
        route.fulfill(response=response, json=body)

    context.route("**/api/v1/sync/pull*", with_alerts)
    ui.sync_now(page)
    panel = page.get_by_role("region", name=re.compile(r"^Alerts from the last sync, \d\d:\d\d$"))
    expect(panel).to_be_visible()
    expect(panel.get_by_role("heading", name="A priority is past its review date")).to_be_visible()
    expect(panel).to_contain_text("was due for review on 20 November.")
    expect(panel).to_contain_text("One record behind it is not on this phone.")
    assert run_axe(page) == []

    # A pull without the key keeps the list; with no signal, a reload still shows it.
    inject["on"] = False
    ui.sync_now(page)
    expect(panel.get_by_role("heading", name="No public feedback this month")).to_be_visible()
    context.set_offline(True)
    page.reload()
    page.get_by_role("heading", name="My log").wait_for()
    expect(panel).to_be_visible()
    expect(panel.get_by_role("link", name=re.compile(r"^Face-to-face contact, "))).to_be_visible()
    shot(page, "pwa-alerts")
    page.set_viewport_size({"width": 1280, "height": 800})
    shot(page, "pwa-alerts-desktop")
    page.set_viewport_size({"width": 360, "height": 740})

    # The team member's record shows in the whole team's log; the officer's own opens.
    panel.get_by_role("button", name=re.compile(r"^Face-to-face contact, ")).click()
    card = ui.card(page, "Team member's patrol")
    expect(card).to_be_visible()
    wait_until(page, "() => document.activeElement?.closest('li.card') !== null")
    panel.get_by_role("link", name=re.compile(r"^Face-to-face contact, ")).click()
    page.get_by_role("heading", name="Edit record").wait_for()
    expect(page.get_by_label("Summary")).to_have_value("Speeding chat at the school gate")


def test_card_actions_fit_a_phone(phone, ui):
    """At 360 px the Edit/Delete row wraps inside its card rather than overflow it."""
    context = phone()
    page = ui.open(context)
    ui.sign_in(page, "pc.one")
    ui.new_record(page, "Short chat")
    ui.wait_synced(page)  # the log redraws its cards after a sync
    wrap = page.evaluate(
        "() => getComputedStyle(document.querySelector('li.card .card-actions')).flexWrap"
    )
    assert wrap == "wrap"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
