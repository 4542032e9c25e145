"""Assessment in a real browser: the grid, a team's charts, a cell's evidence, the evidence pack
and the public page, on the demo force; accessibility checks; and the screenshots
(docs/screenshots/assessment-*.png with BEATBOOK_SCREENSHOTS=1) at desktop and phone width.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import CHROMIUM, REPO, SHOTS, LiveServer, run_axe

pytestmark = pytest.mark.e2e
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}
TEAM = "NPT-WEY"


def last_quarter() -> str:
    from server.assessment.periods import containing_moment

    now = datetime.now(timezone.utc).replace(tzinfo=None)
    return containing_moment(now, "quarter", ZoneInfo("Europe/London")).previous().label


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    """The demo force (four teams, 13 months of records through the push path) and two meetings
    announced for the public page."""
    from server import create_app
    from server.db import db
    from server.db.create import init_db
    from server.db.models import PlannedMeeting, Team
    from server.demo import seed_demo

    path = tmp_path_factory.mktemp("assessment") / "beatbook.sqlite"
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "e2e", "TESTING": True})
    with app.app_context():
        init_db()
        seed_demo(months=13, seed=7)
        team = db.session.query(Team).filter_by(code=TEAM).one()
        soon = datetime.now(timezone.utc).replace(tzinfo=None, minute=0, second=0, microsecond=0)
        db.session.add_all(
            [
                PlannedMeeting(
                    team_id=team.id,
                    kind="beat_surgery",
                    starts_at=soon + timedelta(days=6, hours=2),
                    title="Beat surgery at Weymouth library",
                ),
                PlannedMeeting(
                    team_id=team.id,
                    kind="community_meeting",
                    starts_at=soon + timedelta(days=15),
                    title="PACT meeting, Westham community centre",
                ),
            ]
        )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return path


@pytest.fixture(scope="module")
def site(demo_db, tmp_path_factory):
    folder = tmp_path_factory.mktemp("site")
    db_path = folder / "beatbook.sqlite"
    shutil.copy(demo_db, db_path)
    live = LiveServer(db_path, REPO / "pwa", folder / "server.log")
    live.start()
    yield live
    live.stop()


@pytest.fixture
def open_as(browser, site):
    contexts = []

    def make(username: str | None, viewport=DESKTOP):
        context = browser.new_context(
            viewport=viewport, base_url=site.url, locale="en-GB", timezone_id="Europe/London"
        )
        context.set_default_timeout(20000)
        contexts.append(context)
        page = context.new_page()
        if username:
            page.goto("/console/sign-in")
            page.get_by_label("Username").fill(username)
            page.get_by_label("Password").fill("beatbook-demo")
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url("**/console/**")
        return page

    yield make
    for context in contexts:
        context.close()


def officer_names() -> list[str]:
    from server.demo import PEOPLE

    return [display for _, display, _, _ in PEOPLE]


def test_grid_shows_ratings_in_words_and_opens_the_evidence(open_as):
    page = open_as("admin")
    page.goto(f"/console/assessment?period={last_quarter()}")
    cells = page.locator("td.cell")
    assert cells.count() == 4 * 10  # four teams, ten standards
    for text in cells.all_inner_texts():
        assert any(word in text for word in ("Met", "Partly met", "Not met")), text
    assert page.locator("td.overall .grade").count() == 4
    assert run_axe(page) == []
    page.locator(f"td.cell a[href*='/teams/{TEAM}/standards/MEET']").click()
    page.get_by_role(
        "heading", name="Evidence: Meetings publicised 7 or more days ahead"
    ).wait_for()
    assert page.locator("table.evidence").count() == 3  # held, publicised, attendance
    assert "Publicised" in page.locator("table.evidence").nth(1).inner_text()
    assert run_axe(page) == []


def test_team_page_charts_each_measure_over_twelve_quarters(open_as):
    page = open_as("sgt.patel")
    page.goto(f"/console/assessment/teams/{TEAM}?period={last_quarter()}")
    charts = page.locator("svg.chart")
    assert charts.count() == 12  # ten standards; meetings have three measures
    first = charts.first
    assert "Face-to-face contacts per officer" in first.locator("title").text_content()
    assert first.locator("desc").text_content().count(";") == 11  # twelve periods described
    assert run_axe(page) == []
    page.goto(f"/console/assessment/teams/NPT-BRI?period={last_quarter()}")
    assert page.get_by_role("heading", name="Not found").is_visible()  # not Patel's team


def test_panel_sees_evidence_without_officer_names(open_as):
    page = open_as("panel")
    page.goto(f"/console/assessment/teams/{TEAM}/standards/F2F?period={last_quarter()}")
    text = page.locator("main").inner_text()
    assert "Officer names are removed for the panel" in text and "Officer 1" in text
    for name in officer_names():
        assert name not in text


def test_evidence_pack_prints(open_as, tmp_path):
    page = open_as("admin")
    page.goto(f"/console/assessment/teams/{TEAM}/pack?period={last_quarter()}")
    assert page.locator("section.pack-standard").count() == 10
    assert page.locator(".self-evaluation").count() == 10
    page.emulate_media(media="print")
    assert not page.locator("header.top").is_visible()  # no console chrome on paper
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000


def test_public_page_needs_no_sign_in_and_names_no_one(open_as):
    page = open_as(None, PHONE)
    page.goto(f"/teams/{TEAM}")
    page.get_by_role("heading", name="Weymouth Town NPT").wait_for()
    text = page.locator("body").inner_text()
    assert "Beat surgery at Weymouth library" in text and "You said, we did" in text
    for name in officer_names():
        assert name not in text
    from server.demo import PLACES

    for place in PLACES:
        assert place not in text, place
    assert run_axe(page) == []


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's Chromium")
def test_screenshots(open_as):
    """docs/screenshots/assessment-*.png: grid, team page, evidence pack, public page."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    quarter = last_quarter()
    pages = {
        "grid": ("admin", f"/console/assessment?period={quarter}"),
        "team": ("sgt.patel", f"/console/assessment/teams/{TEAM}?period={quarter}"),
        "pack": ("admin", f"/console/assessment/teams/{TEAM}/pack?period={quarter}"),
        "public": (None, f"/teams/{TEAM}"),
    }
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        for name, (user, path) in pages.items():
            page = open_as(user, viewport)
            page.goto(path)
            page.screenshot(path=str(SHOTS / f"assessment-{name}-{size}.png"), full_page=True)
            assert (SHOTS / f"assessment-{name}-{size}.png").stat().st_size > 10_000
