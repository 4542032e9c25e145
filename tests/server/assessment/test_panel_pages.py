"""What the panel reads: the longest gap marked in the evidence, the pack's sample of approved
records first with the withheld count, charts that tell "no records yet" from "not met" and mark
the running period, and what works with broadcast kinds apart (issue 17, items 20-23)."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from assessment_force import PASSWORD

from server.assessment.evidence import evidence
from server.assessment.grid import resolve_period, scope_for, trend, visible_teams
from server.catalogues import catalogues
from server.console.assessment import charts_for, team_began

JULY = "2025-07"


def measure(code: str, index: int = 0) -> dict:
    standard = next(s for s in catalogues().current.standards if s["code"] == code)
    return standard["measures"][index]


@pytest.fixture
def posts(app, force):
    """NPT-A's social-media posts in July 2025 (times in UTC; the month starts 30 June 23:00
    UTC): gaps of 1, 1, 10, 4 and 8 days, then 7 to the end; the one approved post is the 16th.
    And an alert in May, so the team's first record is in May."""
    pc = force.officer("NPT-A", "pc.alpha")
    force.add(pc, "2025-05-20 10:00", "community_alert")
    ids = force.add_many(
        pc,
        [
            ("2025-07-01 23:00", "social_media_post", {}),  # 1 day after 1 July 00:00 BST
            ("2025-07-02 23:00", "social_media_post", {}),
            ("2025-07-12 23:00", "social_media_post", {}),  # 10 days: the longest
            ("2025-07-16 23:00", "social_media_post", {}),
            ("2025-07-24 23:00", "social_media_post", {}),
        ],
    )
    force.review(ids[3], "approved")
    force.user("panel", None, "panel.member")
    force.user("admin", None, "insp.admin")
    return ids


def scope(code: str = "NPT-A", label: str = JULY):
    teams = visible_teams(None, code)
    return scope_for(resolve_period(label), teams), teams[0]


def test_longest_gap_is_marked_and_days_read_as_words(app, posts):
    found_scope, team = scope()
    ev = evidence(found_scope, measure("SOCIAL"), team.id)
    notes = [item.note for item in ev.items]
    assert notes == [
        "1 day after the period began",
        "1 day after the previous one",
        "10 days after the previous one",
        "4 days after the previous one",
        "8 days after the previous one",
    ]
    assert [item.longest for item in ev.items] == [False, False, True, False, False]
    assert any("The longest gap: 10 days" in line and "(marked below)" in line for line in ev.lines)
    # A page that starts later still measures each gap from the record before it.
    later = evidence(found_scope, measure("SOCIAL"), team.id, limit=2, offset=2)
    assert [item.note for item in later.items] == notes[2:4]
    assert [item.longest for item in later.items] == [True, False]
    assert not any("1 days" in note for note in notes)


def test_a_longest_gap_to_the_period_end_is_said_not_marked(app, force, posts):
    pc = "pc.alpha"
    force.delete(pc, posts[4])  # now 1, 1, 10, 4; and 15 days from the last to 1 August
    found_scope, team = scope()
    ev = evidence(found_scope, measure("SOCIAL"), team.id)
    assert not any(item.longest for item in ev.items)
    assert any(
        line.startswith("The longest gap: 15 days, from the last record") for line in ev.lines
    )


def test_samples_put_approved_records_first_and_count_the_rest(app, posts):
    found_scope, team = scope()
    social = measure("SOCIAL")
    sample = evidence(found_scope, social, team.id, limit=2, approved_first=True)
    assert sample.items[0].record_id == posts[3] and sample.items[0].review_state == "approved"
    assert (sample.total, sample.not_approved) == (5, 4)
    # The notes do not depend on the order: the approved one is still "4 days after".
    assert sample.items[0].note == "4 days after the previous one"
    assert sample.items[1].note == "1 day after the period began"


def test_pack_for_the_panel_says_what_is_withheld_and_is_not_a_self_evaluation(client, posts):
    client.post("/console/sign-in", data={"username": "panel.member", "password": PASSWORD})
    html = client.get(f"/console/assessment/teams/NPT-A/pack?period={JULY}").get_data(as_text=True)
    assert "Self-evaluation" not in html and "Summary of the assessment" in html
    assert "4 of the 5 records are not yet approved by a supervisor" in html
    assert "the sample shows approved records first" in html
    assert re.search(r'<nav class="pack-contents[^"]*" aria-label="Contents">', html)
    assert 'href="#std-SOCIAL"' in html and 'id="std-SOCIAL"' in html
    client.post("/console/sign-out")
    client.post("/console/sign-in", data={"username": "insp.admin", "password": PASSWORD})
    own = client.get(f"/console/assessment/teams/NPT-A/pack?period={JULY}").get_data(as_text=True)
    assert "Self-evaluation" in own and "not yet approved by a supervisor, so" not in own


def test_cell_page_marks_the_longest_gap(client, posts):
    client.post("/console/sign-in", data={"username": "insp.admin", "password": PASSWORD})
    html = client.get(f"/console/assessment/teams/NPT-A/standards/SOCIAL?period={JULY}").get_data(
        as_text=True
    )
    assert html.count('class="longest"') == 1 and "Longest gap</span>" in html
    assert "1 days" not in html


def test_charts_say_no_records_yet_before_the_first_record(app, posts):
    _, team = scope()
    history = trend(team, resolve_period(JULY), 4)  # April to July 2025
    began = team_began(history)
    assert began == datetime(2025, 5, 20, 10, 0)
    [chart] = charts_for(history, "ALERT", began)
    svg = str(chart["svg"])
    desc = re.search(r"<desc[^>]*>(.*?)</desc>", svg).group(1)
    assert desc.startswith("Apr 25: no records yet; May 25: 1,")
    assert "no records yet</text>" in svg and "so far" not in svg
    # With no record ever, every period is "no records yet" and none is "not met".
    [empty] = charts_for(history, "ALERT", None)
    assert str(empty["svg"]).count("not met") == 1  # the legend only


def test_what_works_shows_broadcast_kinds_apart(client, posts):
    client.post("/console/sign-in", data={"username": "insp.admin", "password": PASSWORD})
    html = client.get(f"/console/assessment/what-works?period={JULY}&team=NPT-A").get_data(
        as_text=True
    )
    broadcast = html.index("Broadcast: posts, web updates and alerts")
    assert html.index("Social-media post") > broadcast
    assert "Reach per officer-hour" in html and "<caption>" not in html
    assert html.count(">Show</button>") == 1  # one form for the period and the team
    assert 'href="?period=2025-06&amp;team=NPT-A"' in html  # the period links keep the team
    body = client.get(f"/api/v1/assessment/what-works?period={JULY}&team=NPT-A").get_json()
    kinds = {k["kind"]: k["broadcast"] for k in body["force"]["kinds"]}
    assert kinds == {"social_media_post": True}
