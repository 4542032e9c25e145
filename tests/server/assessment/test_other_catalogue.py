"""Another force's catalogue (tests/server/assessment/catalogues/wessex-*.json): other standards,
thresholds, grades and returned-record rule, and a second version that takes effect mid-year.
No code knows about it: only configuration points at the folder.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from assessment_force import Force

from server import create_app
from server.assessment.grid import AssessmentError, assess, resolve_period, visible_teams
from server.db import db
from server.db.create import init_db

FOLDER = Path(__file__).with_name("catalogues")
NOW = datetime(2026, 1, 15, 12, 0)


@pytest.fixture
def wessex(tmp_path, database_server):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_server or f"sqlite:///{tmp_path / 'wessex.sqlite'}",
            "SECRET_KEY": "test-secret",
            "CATALOGUE": "wessex",
            "CATALOGUE_DIR": str(FOLDER),
        }
    )
    with app.app_context():
        if database_server:
            db.drop_all()
        init_db()
        yield Force()
        db.session.remove()
        if database_server:
            db.drop_all()
        db.engine.dispose()


def judge(label: str):
    return assess(resolve_period(label, NOW), visible_teams(None), NOW)


def test_each_period_is_judged_by_the_version_in_force(wessex):
    pc = wessex.officer("NPT-W")
    wessex.add_many(
        pc, [(f"2025-06-{d:02d} 10:00", "face_to_face", {}) for d in (2, 3, 4, 5, 6, 9)]
    )
    wessex.add_many(
        pc, [(f"2025-07-{d:02d} 10:00", "face_to_face", {}) for d in (1, 2, 3, 4, 7, 8)]
    )
    june, july = judge("2025-06"), judge("2025-07")
    assert june.catalogue.version == "2024-04-01" and july.catalogue.version == "2025-07-01"
    # Six contacts: met under the first version (5 or more), partly met under the second (4-8).
    assert june.team("NPT-W").by_code["VISIBLE"].rating == "met"
    assert july.team("NPT-W").by_code["VISIBLE"].rating == "partly_met"
    assert "MEETUP" not in june.team("NPT-W").by_code
    assert july.team("NPT-W").by_code["MEETUP"].rating == "not_met"  # no meetings held


def test_other_thresholds_grades_and_returned_records(wessex):
    pc = wessex.officer("NPT-W")
    ids = wessex.add_many(
        pc,
        [
            ("2025-05-01 10:00", "community_alert", {}),
            ("2025-05-09 10:00", "community_alert", {}),
            ("2025-05-18 10:00", "community_alert", {}),
            ("2025-05-27 10:00", "community_alert", {}),
            ("2025-05-05 10:00", "outreach", {"groups": ["businesses", "students"]}),
            ("2025-05-06 10:00", "face_to_face", {"groups": ["residents"]}),
            ("2025-05-07 10:00", "face_to_face", {}),
            ("2025-05-08 10:00", "face_to_face", {}),
            ("2025-05-09 11:00", "face_to_face", {}),
            ("2025-05-20 10:00", "key_contact", {"contact_role": "Clerk", "contact_org": "Parish"}),
            (
                "2025-03-01 10:00",
                "key_contact",
                {"contact_role": "Vicar", "contact_org": "St John's"},
            ),
        ],
    )
    wessex.review(ids[5], "returned")  # Wessex counts returned records until they are fixed
    team = judge("2025-05").team("NPT-W")
    by = team.by_code
    # Alerts 1, 9, 18, 27 May: longest gap 9 days (1 May 00:00 BST start edge is 9 hours;
    # the end edge 27 May 10:00 -> 31 May 23:00 is 4.5 days): met at 10 or fewer.
    assert (by["INFORM"].headline.figure.value, by["INFORM"].rating) == (9, "met")
    # Any group counts here, not only the seldom heard: businesses, students, residents.
    assert (by["VOICES"].headline.figure.value, by["VOICES"].rating) == (3, "met")
    # Five contacts (outreach evidences VISIBLE too; the returned one counts): met at 5.
    assert (by["VISIBLE"].headline.figure.value, by["VISIBLE"].rating) == (5, "met")
    # The clerk was met 11 days before the end, the vicar 91: 1 of 2, partly met.
    assert by["LEADERS"].rating == "partly_met"
    assert team.grade == {"grade": "good", "title": "Good"}


def test_periods_before_the_first_version_cannot_be_judged(wessex):
    with pytest.raises(AssessmentError, match="no catalogue is in force"):
        resolve_period("2024-03", NOW)
    with pytest.raises(AssessmentError, match="has not started"):
        resolve_period("2026-02", NOW)
