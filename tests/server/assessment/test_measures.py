"""Every measure type on small record sets whose figures and ratings are worked out here.

Dates are in 2025 (always in the past). July 2025 is BST: it runs from 23:00 UTC on 30 June to
23:00 UTC on 31 July. Thresholds are Dorset's (schema/standards/dorset-2019-04-01.json).
"""

from __future__ import annotations

from datetime import datetime

import pytest

from server.assessment.grid import assess, resolve_period, visible_teams

NOW = datetime(2026, 1, 15, 12, 0)


def judge(label: str, now: datetime = NOW):
    return assess(resolve_period(label, now), visible_teams(None), now)


def cell(assessment, team: str, code: str):
    return assessment.team(team).by_code[code]


def test_count_per_team_scales_monthly_thresholds_to_the_period(force):
    pc = force.officer("NPT-A")
    pc_b = force.officer("NPT-B")
    force.add_many(
        pc,
        [("2025-07-03 10:00", "community_alert", {}), ("2025-07-20 10:00", "community_alert", {})],
    )
    force.add(pc_b, "2025-07-10 10:00", "community_alert")
    july = judge("2025-07")
    # 2 a month is met, 1 a month partly met.
    assert cell(july, "NPT-A", "ALERT").headline.figure.value == 2
    assert cell(july, "NPT-A", "ALERT").rating == "met"
    assert cell(july, "NPT-B", "ALERT").rating == "partly_met"
    # A quarter needs 6 for met and 3 for partly met: 2 is not met, 3 is partly met.
    assert cell(judge("2025-Q3"), "NPT-A", "ALERT").rating == "not_met"
    force.add(pc, "2025-08-15 10:00", "community_alert")
    q3 = cell(judge("2025-Q3"), "NPT-A", "ALERT")
    assert (q3.headline.figure.value, q3.rating) == (3, "partly_met")
    assert q3.headline.limits.met == 6 and q3.headline.limits.partly_met == 3


def test_count_per_officer_counts_records_evidencing_the_standard(force):
    busy = force.officer("NPT-A")
    force.officer("NPT-A")  # an officer who logged nothing still divides the team's figure
    items = [(f"2025-07-{day:02d} 10:00", "face_to_face", {}) for day in range(1, 29)]
    items.append(
        ("2025-07-29 10:00", "key_contact", {"contact_role": "Chair", "contact_org": "RA"})
    )
    items.append(("2025-07-29 11:00", "face_to_face", {"standards": ["PARTNER"]}))  # F2F taken off
    items.append(("2025-07-29 12:00", "social_media_post", {}))
    ids = force.add_many(busy, items)
    force.delete(busy, ids[0])
    # 27 face-to-face left + 1 key contact (KCL, F2F) = 28 over 2 officers = 14: partly met (10-20).
    f2f = cell(judge("2025-07"), "NPT-A", "F2F")
    assert (f2f.headline.figure.value, f2f.headline.figure.numerator) == (14, 28)
    assert f2f.headline.figure.denominator == 2
    assert f2f.rating == "partly_met"


def test_distinct_seldom_heard_groups(force):
    pc = force.officer("NPT-A")
    ids = force.add_many(
        pc,
        [
            ("2025-07-02 10:00", "outreach", {"groups": ["young_people", "businesses"]}),
            ("2025-07-03 10:00", "school_visit", {"groups": ["young_people", "rural"]}),
            ("2025-07-04 10:00", "face_to_face", {"groups": ["older_people"]}),
            ("2025-07-05 10:00", "outreach", {"groups": ["travellers"]}),
            ("2025-07-06 10:00", "outreach", {"groups": ["homeless"]}),
            ("2025-08-01 10:00", "outreach", {"groups": ["lgbtq"]}),  # August
        ],
    )
    force.delete(pc, ids[3])
    force.review(ids[4], "returned")  # Dorset does not count returned records
    seldom = cell(judge("2025-07"), "NPT-A", "SELDOM")
    # businesses is not seldom heard: young people, rural, older people = 3, partly met (2-4).
    assert seldom.headline.figure.value == 3
    assert seldom.headline.figure.detail["groups"] == {
        "older_people": 1,
        "rural": 1,
        "young_people": 2,
    }
    assert seldom.rating == "partly_met"


def test_longest_gap_counts_the_period_edges(force):
    a, b = force.officer("NPT-A"), force.officer("NPT-B")
    force.officer("NPT-C")
    force.add_many(
        a,
        [
            (t, "social_media_post", {})
            for t in (
                "2025-07-01 09:00",
                "2025-07-08 09:00",
                "2025-07-20 09:00",
                "2025-07-29 09:00",
            )
        ],
    )
    force.add_many(
        b,
        [
            (t, "social_media_post", {})
            for t in (
                "2025-07-01 00:00",
                "2025-07-08 00:00",
                "2025-07-15 00:00",
                "2025-07-22 00:00",
                "2025-07-29 00:00",
            )
        ],
    )
    july = judge("2025-07")
    # A: 1 Jul -> 8 Jul is 7 days, 8 -> 20 is 12 days (the longest): partly met (7-14).
    assert cell(july, "NPT-A", "SOCIAL").headline.figure.value == 12
    assert cell(july, "NPT-A", "SOCIAL").rating == "partly_met"
    # B: exactly weekly; the edges are shorter (1 hour from the start, 2 days 23 hours to the
    # end), so the longest gap is 7 days: met, the threshold itself counts.
    assert cell(july, "NPT-B", "SOCIAL").headline.figure.value == 7
    assert cell(july, "NPT-B", "SOCIAL").rating == "met"
    # C posted nothing: the whole month (31 days) is one gap.
    assert cell(july, "NPT-C", "SOCIAL").headline.figure.value == 31
    assert cell(july, "NPT-C", "SOCIAL").rating == "not_met"


def test_longest_gap_of_a_running_period_runs_to_now(force):
    a = force.officer("NPT-A")
    force.add(a, "2025-07-01 09:00", "social_media_post")
    now = datetime(2025, 7, 6, 9, 0)
    assert cell(judge("2025-07", now), "NPT-A", "SOCIAL").headline.figure.value == 5


def test_days_since_last_looks_before_the_period_and_not_after(force):
    a, b = force.officer("NPT-A"), force.officer("NPT-B")
    force.officer("NPT-C")
    force.add(a, "2025-05-31 23:00", "web_page_update")  # 00:00 BST on 1 June
    force.add(a, "2025-08-02 10:00", "web_page_update")  # after July: not seen from July
    force.add(b, "2025-07-01 23:00", "web_page_update")
    july = judge("2025-07")
    # A: 1 June 00:00 to 1 August 00:00 (BST) = 61 days: partly met (31-62).
    assert cell(july, "NPT-A", "WEB").headline.figure.value == 61
    assert cell(july, "NPT-A", "WEB").rating == "partly_met"
    assert cell(july, "NPT-B", "WEB").headline.figure.value == 30
    assert cell(july, "NPT-B", "WEB").rating == "met"
    assert cell(july, "NPT-C", "WEB").headline.figure.value is None
    assert cell(july, "NPT-C", "WEB").headline.text == "never"
    assert cell(july, "NPT-C", "WEB").rating == "not_met"


def test_meetings_measure_notice_given_and_attendance(force):
    pc = force.officer("NPT-A")
    force.add_many(
        pc,
        [
            (
                "2025-07-10 18:00",
                "community_meeting",
                {"publicised_at": "2025-07-03 18:00", "people_count": 12},
            ),  # exactly 7 days: counts
            (
                "2025-07-17 18:00",
                "beat_surgery",
                {"publicised_at": "2025-07-10 19:00", "people_count": 6},
            ),  # 6 days 23 hours: does not
            ("2025-07-24 18:00", "community_meeting", {"people_count": None}),  # not publicised
        ],
    )
    meet = cell(judge("2025-07"), "NPT-A", "MEET")
    held, publicised, attendance = meet.measures
    assert (held.figure.value, held.rating) == (3, "met")
    assert (publicised.figure.numerator, publicised.figure.denominator) == (1, 3)
    assert publicised.rating == "not_met"  # 33% is under 50%
    assert (attendance.figure.value, attendance.rating) == (9, "partly_met")  # (12+6)/2
    # The standard takes its worst measure, and the cell headline is that measure.
    assert meet.rating == "not_met" and meet.headline is publicised
    assert publicised.text == "33% (1 of 3)"


def test_key_contacts_renewed_within_90_days(force):
    pc = force.officer("NPT-A")
    force.add_many(
        pc,
        [
            (
                "2025-01-10 10:00",
                "key_contact",
                {"contact_role": "Head teacher", "contact_org": "St Mary's"},
            ),
            (
                "2025-07-05 10:00",
                "key_contact",
                {"contact_role": " head teacher", "contact_org": "ST MARY'S "},
            ),
            (
                "2025-03-01 10:00",
                "key_contact",
                {"contact_role": "Chair", "contact_org": "Residents"},
            ),
            ("2024-06-01 10:00", "key_contact", {"contact_role": "Imam", "contact_org": "Mosque"}),
            ("2025-07-06 10:00", "key_contact", {}),  # no role or organisation: not a known contact
        ],
    )
    kcl = cell(judge("2025-07"), "NPT-A", "KCL")
    # Known in the year to 31 July: the head teacher (renewed on 5 July) and the chair (last seen
    # 1 March, 152 days before): 1 of 2 = 50%, partly met. The imam is outside the year.
    figure = kcl.headline.figure
    assert (figure.numerator, figure.denominator, figure.value) == (1, 2, 0.5)
    assert kcl.rating == "partly_met"


def test_a_contact_at_half_past_midnight_bst_on_1_april_belongs_to_april(force):
    pc = force.officer("NPT-A")
    force.add(pc, "2025-04-01T00:30:00+01:00", "community_alert")  # 23:30 UTC on 31 March
    force.add(pc, "2025-03-30T00:30:00+00:00", "community_alert")  # before the spring change
    force.add(pc, "2025-10-01T00:30:00+01:00", "community_alert")
    force.add(pc, "2025-10-31T23:30:00+00:00", "community_alert")  # after the autumn change
    counts = {
        label: cell(judge(label), "NPT-A", "ALERT").headline.figure.value
        for label in ("2025-03", "2025-04", "2025-09", "2025-10", "2025-11")
    }
    assert counts == {"2025-03": 1, "2025-04": 1, "2025-09": 0, "2025-10": 2, "2025-11": 0}
    # ISO week 14 of 2025 starts at 00:00 BST on Monday 31 March (23:00 UTC on the 30th).
    assert cell(judge("2025-W14"), "NPT-A", "ALERT").headline.figure.value == 1
    assert cell(judge("2025-W13"), "NPT-A", "ALERT").headline.figure.value == 1


@pytest.mark.parametrize("state, counted", [("approved", 1), ("returned", 0)])
def test_returned_records_do_not_count_in_dorset(force, state, counted):
    pc = force.officer("NPT-A")
    record = force.add(pc, "2025-07-03 10:00", "feedback")
    force.review(record, state)
    assert cell(judge("2025-07"), "NPT-A", "FEEDBACK").headline.figure.value == counted


def test_deleted_records_never_count(force):
    pc = force.officer("NPT-A")
    keep, gone = force.add_many(
        pc,
        [("2025-07-03 10:00", "partner_meeting", {}), ("2025-07-04 10:00", "partner_meeting", {})],
    )
    force.delete(pc, gone)
    partner = cell(judge("2025-07"), "NPT-A", "PARTNER")
    assert (partner.headline.figure.value, partner.rating) == (1, "partly_met")
