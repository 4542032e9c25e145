"""Alert rules worked by hand, at the edges, under Dorset's 2027 catalogue moved to 2025
(loop_force.py) and its `alerts` section.

NOW is Wednesday 24 September 2025, 12:00 UTC (13:00 BST); September has 7 days left counting
today, so the month_short rules (within_days 7) are live. The thresholds quoted are the
catalogue's: F2F 14 days; SOCIAL met at a 7-day gap; WEB met at 31 days, warned 7 before;
meetings publicised 7 days ahead, looked at 7 days out; key contacts renewed every 90 days,
known for 365, warned 14 before; feedback within 28 days, warned 7 before; phones silent 3 days.
"""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from loop_force import LoopForce, close_app, loop_catalogues, open_app

from server.alerts.rules import team_alerts
from server.alerts.visible import DismissError, DismissForbidden, dismiss, for_phone, for_user
from server.catalogues import catalogues
from server.db import db
from server.db.models import Device, PlannedMeeting, Team, User

NOW = datetime(2025, 9, 24, 12, 0)


@pytest.fixture
def force(tmp_path, database_server):
    url = database_server or f"sqlite:///{tmp_path / 'alerts.sqlite'}"
    app, ctx = open_app(url, loop_catalogues(tmp_path / "standards"), database_server)
    try:
        yield LoopForce()
    finally:
        close_app(ctx, database_server)


def alerts(rule: str, now: datetime = NOW, team: str | None = None):
    teams = list(db.session.scalars(sa.select(Team).order_by(Team.code)))
    return [
        a for a in team_alerts(teams, now) if a.rule == rule and (team is None or a.team == team)
    ]


def user_id(username: str) -> int:
    return db.session.scalar(sa.select(User.id).where(User.username == username))


def test_officer_gap_is_14_days_of_the_officers_own_face_to_face(force):
    quiet = force.officer("NPT-A", "pc.quiet")
    busy = force.officer("NPT-A", "pc.busy")
    force.officer("NPT-A", "pc.new")
    deleted = force.officer("NPT-A", "pc.deleted")
    old = force.add(quiet, "2025-09-10 11:00")  # 14 days and an hour ago: quiet
    force.add(busy, "2025-09-10 13:00")  # 13 days 23 hours ago: fine
    force.add(busy, "2025-09-01 10:00", "social_media_post")  # not face to face
    kept = force.add(deleted, "2025-08-01 10:00")
    force.delete(deleted, force.add(deleted, "2025-09-20 10:00"))  # a deleted record is none
    found = {a.officer_id: a for a in alerts("officer_gap")}
    assert set(found) == {user_id(quiet), user_id("pc.new"), user_id(deleted)}
    assert found[user_id(quiet)].record_ids == (old,)
    assert found[user_id(quiet)].title == "PC.QUIET: no face-to-face contact record in 14 days"
    assert found[user_id(quiet)].detail == "Last record 10 Sep 2025, 14 days ago."
    assert found[user_id(quiet)].due == datetime(2025, 9, 24).date()
    assert found[user_id("pc.new")].detail == "No record yet." and not found[user_id("pc.new")].due
    assert found[user_id(deleted)].record_ids == (kept,)
    # Deactivated officers are not on the roster.
    db.session.get(User, user_id("pc.new")).active = False
    db.session.commit()
    assert user_id("pc.new") not in {a.officer_id for a in alerts("officer_gap")}


def test_team_gap_uses_the_met_threshold_of_the_standards_measure(force):
    a, b = force.officer("NPT-A", "pc.a"), force.officer("NPT-B", "pc.b")
    post = force.add(a, "2025-09-16 11:00", "social_media_post")  # 8 days 1 hour: past 7
    force.add(b, "2025-09-17 13:00", "social_media_post")  # 6 days 23 hours: met
    force.add(a, "2025-08-30 11:00", "web_page_update")  # 25 days: within 7 of 31
    force.add(b, "2025-09-01 13:00", "web_page_update")  # 22 days 23 hours: fine
    social = alerts("team_gap")
    by = {(x.standard, x.team): x for x in social}
    assert set(by) == {("SOCIAL", "NPT-A"), ("WEB", "NPT-A")}
    assert by["SOCIAL", "NPT-A"].record_ids == (post,)
    assert by["SOCIAL", "NPT-A"].title.endswith(
        "8 days since the last record, past the 7 days limit"
    )
    assert by["SOCIAL", "NPT-A"].due == datetime(2025, 9, 23).date()
    assert "close to the 31 days limit" in by["WEB", "NPT-A"].title
    # A team with no record of the kind at all is told so.
    force.officer("NPT-C", "pc.c")
    assert {x.title for x in alerts("team_gap", team="NPT-C")} == {
        "Social-media presence: no record yet",
        "Up-to-date neighbourhood web page: no record yet",
    }


def meeting(team: str, starts: str, publicised: str | None = None, cancelled: bool = False):
    row = PlannedMeeting(
        team_id=db.session.scalar(sa.select(Team.id).where(Team.code == team)),
        kind="community_meeting",
        starts_at=datetime.fromisoformat(starts),
        title=f"Meeting {starts}",
        publicised_at=datetime.fromisoformat(publicised) if publicised else None,
        cancelled=cancelled,
    )
    db.session.add(row)
    db.session.commit()
    return row.id


def test_meetings_coming_up_must_be_publicised_7_days_ahead(force, monkeypatch):
    force.officer("NPT-A", "pc.a")
    unannounced = meeting("NPT-A", "2025-09-30 17:00")
    meeting("NPT-A", "2025-09-29 17:00", publicised="2025-09-20 09:00")  # 9 days ahead
    late = meeting("NPT-A", "2025-09-30 18:00", publicised="2025-09-25 09:00")  # 5 days
    later = meeting("NPT-A", "2025-10-02 17:00")  # 8 days out: not looked at yet
    meeting("NPT-A", "2025-09-26 17:00", cancelled=True)
    meeting("NPT-A", "2025-09-24 11:00")  # already started
    soon = meeting("NPT-A", "2025-09-27 17:00")  # can no longer count
    found = {a.id.split(":")[1]: a for a in alerts("meeting_not_publicised")}
    assert set(found) == {str(unannounced), str(late), str(soon)}
    assert str(later) not in found
    # 17:00 UTC on 30 Sep less 7 days is 23 Sep: already past, so too late to count.
    assert "too late to count" in found[str(unannounced)].detail
    assert found[str(late)].detail.startswith("Publicised 25 Sep 2025, 5 days ahead: too late")
    db.session.get(PlannedMeeting, unannounced).publicised_at = datetime(2025, 9, 20)
    db.session.commit()
    assert str(unannounced) not in {a.id.split(":")[1] for a in alerts("meeting_not_publicised")}
    # A force looking 14 days ahead hears of the 2 October meeting while it can still count.
    entry = next(e for e in catalogues().current.alerts if e["rule"] == "meeting_not_publicised")
    monkeypatch.setitem(entry, "within_days", 14)
    ahead = {a.id.split(":")[1]: a for a in alerts("meeting_not_publicised")}
    assert ahead[str(later)].detail == (
        "Not publicised yet. To count it must be publicised by 25 Sep 2025."
    )


def test_key_contacts_due_within_14_days_or_overdue(force):
    a = force.officer("NPT-A", "pc.a")

    def contact(when: str, role: str, org: str) -> str:
        return force.add(a, when, "key_contact", contact_role=role, contact_org=org)

    due = contact("2025-07-01 10:00", "Head teacher", "St Mary's School")  # due 29 Sep
    contact("2025-08-01 10:00", "Chair", "Residents' Association")  # due 30 Oct: fine
    overdue = contact("2025-06-01 10:00", "Manager", "Youth Club")  # due 30 Aug: overdue
    contact("2024-09-20 10:00", "Vicar", "St Peter's")  # beyond the 365-day lookback
    renewed = contact("2025-05-01 10:00", "Warden", "Sheltered Housing")
    contact("2025-09-01 10:00", " warden ", "sheltered housing")  # the same contact, renewed
    found = {a.record_ids[0]: a for a in alerts("renewal_due")}
    assert set(found) == {due, overdue}
    assert found[due].title == "Key contact due for renewal: Head teacher, St Mary's School"
    assert found[due].due == datetime(2025, 9, 29).date()
    assert found[overdue].title.startswith("Key contact overdue for renewal: Manager")
    assert found[due].officer_id == user_id(a)
    assert renewed not in found


def test_month_short_counts_the_month_so_far_in_its_last_days(force):
    a, b = force.officer("NPT-A", "pc.a"), force.officer("NPT-B", "pc.b")
    force.add(a, "2025-09-02 10:00", "community_alert")
    force.add(a, "2025-08-31 10:00", "community_alert")  # August (BST: 11:00 on the 31st)
    force.add_many(b, [("2025-09-03 10:00", "community_alert", {})] * 2)
    short = {(x.standard, x.team): x for x in alerts("month_short")}
    assert ("ALERT", "NPT-A") in short and ("ALERT", "NPT-B") not in short
    assert short["ALERT", "NPT-A"].title == "Alerts sent: 1 of 2 this month, 7 days left"
    # Per officer for F2F: each officer short of 20 this month.
    assert {x.officer_id for x in alerts("month_short") if x.standard == "F2F"} == {
        user_id(a),
        user_id(b),
    }
    # Ten days before the month ends, nothing yet.
    assert alerts("month_short", datetime(2025, 9, 21, 12, 0)) == []


def test_feedback_due_within_7_days_of_the_28_day_deadline(force):
    a, b = force.officer("NPT-A", "pc.a"), force.officer("NPT-B", "pc.b")
    owner = user_id(a)
    waiting = force.priority(a, "2025-09-01 10:00", "Speeding on Mill Lane", owner_id=owner)
    answered = force.priority(a, "2025-09-01 10:00", "Parking at the school")
    force.feedback(a, "2025-09-10 10:00", answered)
    private = force.priority(a, "2025-09-01 10:00", "Drugs in the park")
    force.feedback(a, "2025-09-10 10:00", private, public=False)
    returned = force.priority(a, "2025-09-01 10:00", "Litter")
    force.review(force.feedback(a, "2025-09-10 10:00", returned), "returned")
    force.priority(a, "2025-08-20 10:00", "Missed")  # deadline 17 Sep: past, no warning now
    force.priority(a, "2025-09-10 10:00", "Later")  # deadline 8 Oct: 14 days off
    theirs = force.priority(b, "2025-09-01 10:00", "Noise")
    force.feedback(a, "2025-09-10 10:00", theirs)  # another team's feedback answers nothing
    found = {x.record_ids[0]: x for x in alerts("feedback_due")}
    assert set(found) == {waiting, private, returned, theirs}
    assert found[waiting].title == "Public feedback due by 29 Sep 2025 on “Speeding on Mill Lane”"
    assert found[waiting].officer_id == owner and found[theirs].team == "NPT-B"
    # A deleted feedback record no longer answers.
    force.delete(a, force.feedback(a, "2025-09-11 10:00", waiting))
    assert waiting in {x.record_ids[0] for x in alerts("feedback_due")}


def test_review_overdue_for_open_priorities_only(force):
    a = force.officer("NPT-A", "pc.a")
    late = force.priority(a, "2025-08-01 10:00", "Speeding", review_by="2025-09-23")
    force.priority(a, "2025-08-01 10:00", "On time", review_by="2025-09-24")  # due today
    force.priority(
        a,
        "2025-08-01 10:00",
        "Done",
        review_by="2025-09-01",
        priority_status="resolved",
        closed_on="2025-08-30",
    )
    force.priority(a, "2025-08-01 10:00", "No date")
    found = alerts("review_overdue")
    assert [x.record_ids for x in found] == [(late,)]
    assert found[0].title == "Review of “Speeding” was due 23 Sep 2025"


def phone(username: str, pending: int, seen: datetime | None, revoked: bool = False) -> None:
    row = db.session.scalar(
        sa.select(Device).join(User, User.id == Device.user_id).where(User.username == username)
    )
    row.pending, row.last_seen_at = pending, seen
    row.revoked_at = NOW if revoked else None
    db.session.commit()


def test_phone_silent_with_unsynced_changes_for_3_days(force):
    for name, pending, seen, revoked in (
        ("pc.silent", 3, datetime(2025, 9, 21, 11, 0), False),  # 3 days 1 hour
        ("pc.recent", 3, datetime(2025, 9, 21, 13, 0), False),
        ("pc.empty", 0, datetime(2025, 9, 1), False),
        ("pc.revoked", 5, datetime(2025, 9, 1), True),
    ):
        force.officer("NPT-A", name)
        phone(name, pending, seen, revoked)
    found = alerts("phone_silent")
    assert [x.officer_id for x in found] == [user_id("pc.silent")]
    assert found[0].title == "PC.SILENT's phone “Phone” has 3 unsynced changes"
    assert found[0].detail == "Last heard from 21 Sep 2025, 3 days ago."


def test_officers_see_their_own_and_their_teams_alerts_and_dismissal_hides_one(force):
    a, b = force.officer("NPT-A", "pc.a"), force.officer("NPT-A", "pc.b")
    force.officer("NPT-B", "pc.other")
    force.add(a, "2025-09-01 10:00")  # a: quiet for 23 days
    force.add(b, "2025-09-01 10:00")
    me = db.session.get(User, user_id(a))
    mine = for_user(me, NOW)
    assert {x.team for x in mine} == {"NPT-A"}
    assert {x.officer_id for x in mine} == {None, me.id}
    supervisor = force.user("supervisor", "NPT-A", "sgt.a")
    db.session.refresh(supervisor)
    seen = for_user(supervisor, NOW)
    assert {x.officer_id for x in seen if x.rule == "officer_gap"} == {me.id, user_id(b)}
    assert {x.team for x in seen} == {"NPT-A"}
    gap = next(x for x in mine if x.rule == "officer_gap")
    team = db.session.get(Team, gap.team_id)
    with pytest.raises(DismissForbidden):
        dismiss(me, team, gap.id, "On leave", NOW)
    with pytest.raises(DismissError, match="note"):
        dismiss(supervisor, team, gap.id, "  ", NOW)
    with pytest.raises(DismissError, match="no longer raised"):
        dismiss(supervisor, team, "officer_gap:F2F:1:nothing", "On leave", NOW)
    dismiss(supervisor, team, gap.id, "On leave until October", NOW)
    db.session.commit()
    assert gap.id not in {x.id for x in for_user(me, NOW)}
    assert gap.id not in {x.id for x in for_user(supervisor, NOW)}
    with pytest.raises(DismissError, match="already"):
        dismiss(supervisor, team, gap.id, "Again", NOW)
    # A new record, then a new lapse: a new alert, not the dismissed one.
    force.add(a, "2025-09-05 10:00")
    later = [x for x in for_user(me, datetime(2025, 9, 30, 12)) if x.rule == "officer_gap"]
    assert later and later[0].id != gap.id
    # Panel members and admins' phones get none; admins see every team on the console.
    assert for_phone(force.user("panel")) == [] and for_user(force.user("panel"), NOW) == []
    admin = force.user("admin")
    assert for_phone(admin) == [] and {x.team for x in for_user(admin, NOW)} >= {"NPT-A"}


def test_the_2019_catalogue_has_its_own_rules_for_its_own_measures(force):
    """Before 2025 the 2019 version is in force: FEEDBACK is a monthly count there, PRIORITY
    days since the last review (warned 14 days before its 92)."""
    a = force.officer("NPT-A", "pc.a")
    force.add(a, "2024-06-01 10:00", "priority_review")
    when = datetime(2024, 8, 20, 12)  # 80 days on: within 14 of 92
    teams = list(db.session.scalars(sa.select(Team)))
    rules = {(x.rule, x.standard) for x in team_alerts(teams, when)}
    assert ("team_gap", "PRIORITY") in rules and ("review_overdue", "PRIORITY") not in rules
    assert ("feedback_due", "FEEDBACK") not in rules


def test_the_last_record_is_the_newest_whichever_lookback_finds_it(force):
    """The rules look back a month, then a year, then to the start: an older record found in a
    later look must never stand in for a newer one found earlier."""
    a, b = force.officer("NPT-A", "pc.a"), force.officer("NPT-B", "pc.b")
    recent = force.add(a, "2025-08-30 11:00", "web_page_update")  # 25 days: warned
    force.add(a, "2025-03-01 11:00", "web_page_update")
    force.add(b, "2025-09-04 11:00", "web_page_update")  # 20 days: fine
    force.add(b, "2025-06-01 11:00", "web_page_update")
    quiet = force.add(a, "2025-09-04 11:00")  # face to face 20 days ago
    force.add(a, "2024-06-01 11:00")
    force.add(b, "2023-06-01 11:00")  # b's only face to face is years back
    web = [x for x in alerts("team_gap") if x.standard == "WEB"]
    assert [(x.team, x.record_ids) for x in web] == [("NPT-A", (recent,))]
    gaps = {x.officer_id: x.record_ids for x in alerts("officer_gap")}
    assert gaps[user_id(a)] == (quiet,)
    assert len(gaps[user_id(b)]) == 1
