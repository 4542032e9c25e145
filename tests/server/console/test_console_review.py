"""Review: approve, return with a comment, the officer's pull sees it, edits put it back."""

from __future__ import annotations

import sqlalchemy as sa
from console_helpers import access_log, edit_record, push_record, record_row

from server.db import db
from server.db.models import Change, User


def _pulled(device, record_id: str) -> dict:
    body = device.pull().get_json()
    return next(c for c in body["changes"] if c["id"] == record_id)


def test_approve(app, console, officer):
    record_id = push_record(officer)
    person = console("supervisor")
    response = person.post(f"/console/records/{record_id}/review", {"state": "approved"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/console/records/{record_id}"
    record = record_row(app, record_id)
    assert record.review_state == "approved" and record.reviewed_by_id is not None
    assert "Record approved." in person.text(f"/console/records/{record_id}")
    assert _pulled(officer, record_id)["review"]["state"] == "approved"


def test_return_with_comment_reaches_the_officer_and_their_edit_makes_it_pending(
    app, console, officer
):
    record_id = push_record(officer, summary="Spoke to people")
    person = console("supervisor")
    person.post(
        f"/console/records/{record_id}/review",
        {"state": "returned", "comment": "Who did you speak to? Add the group."},
    )
    review = _pulled(officer, record_id)["review"]
    assert (
        review
        == {
            "state": "returned",
            "comment": "Who did you speak to? Add the group.",
            "by": review["by"],
            "at": review["at"],
        }
        and review["at"]
    )
    result = edit_record(officer, record_id, 1, groups=["businesses"])
    assert result["status"] == "applied"
    assert record_row(app, record_id).review_state == "pending"
    assert _pulled(officer, record_id)["review"]["state"] == "pending"
    html = person.text("/console/records?review=pending")
    assert record_id in html


def test_returning_needs_a_comment(app, console, officer):
    """The record page again (400), the message beside the comment box rather than in a banner
    at the top, and the box marked as the field in error."""
    record_id = push_record(officer)
    person = console("supervisor")
    response = person.post(
        f"/console/records/{record_id}/review", {"state": "returned", "comment": "  "}
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert record_row(app, record_id).review_state == "pending"
    error = html.index('id="comment-error"')
    assert "Say what the officer should fix" in html[error : error + 200]
    assert html.index('<label for="comment">') < error < html.index('<textarea id="comment"')
    assert 'aria-describedby="comment-error"' in html
    assert 'class="flash flash-error"' not in html
    assert access_log(app, "review") == []  # nothing happened, so nothing is logged


def test_unknown_state_is_refused(app, console, officer):
    record_id = push_record(officer)
    person = console("supervisor")
    person.post(f"/console/records/{record_id}/review", {"state": "deleted"})
    assert record_row(app, record_id).review_state == "pending"
    assert "A review approves or returns a record." in person.text(f"/console/records/{record_id}")


def test_pull_says_who_reviewed_and_keeps_it_after_the_officers_fix(app, console, officer):
    """The officer's card says who returned a record, and after the fix that it is back with
    them."""
    record_id = push_record(officer)
    assert _pulled(officer, record_id)["review"]["by"] is None, "not reviewed yet"
    person = console("supervisor")
    person.post(f"/console/records/{record_id}/review", {"state": "returned", "comment": "Where?"})
    with app.app_context():
        supervisor = db.session.get(User, record_row(app, record_id).reviewed_by_id)
        name = supervisor.display_name or supervisor.username
        expected = {"id": supervisor.id, "display_name": name}
    assert _pulled(officer, record_id)["review"]["by"] == expected
    assert expected["display_name"]
    edit_record(officer, record_id, 1, place="Mill Lane")
    after = _pulled(officer, record_id)
    assert after["review"]["state"] == "pending"
    assert after["review"]["by"] == expected and after["review"]["at"], "the return it answers"
    assert after["created_at"] and after["created_at"] <= after["review"]["at"]


def test_approved_record_edited_later_needs_review_again(app, console, officer):
    record_id = push_record(officer)
    person = console("supervisor")
    person.post(f"/console/records/{record_id}/review", {"state": "approved"})
    edit_record(officer, record_id, 1, people_count=12)
    assert record_row(app, record_id).review_state == "pending"


def test_review_goes_into_the_change_log_and_the_access_log(app, console, officer):
    record_id = push_record(officer)
    person = console("supervisor")
    person.post(f"/console/records/{record_id}/review", {"state": "returned", "comment": "Fix"})
    with app.app_context():
        change = db.session.scalar(
            sa.select(Change).where(Change.record_id == record_id, Change.op == "review")
        )
        assert change.data["values"] == {"state": "returned", "comment": "Fix"}
        assert change.user.username == person.username
    logged = access_log(app, "review")
    assert [(r.target_id, r.detail) for r in logged] == [
        (record_id, {"state": "returned", "comment": "Fix"})
    ]
    history = person.text(f"/console/records/{record_id}")
    assert "Reviewed</span>" in history


def test_other_teams_record_cannot_be_reviewed(app, console, other_officer):
    theirs = push_record(other_officer)
    response = console("supervisor").post(
        f"/console/records/{theirs}/review", {"state": "approved"}
    )
    assert response.status_code == 404
    assert record_row(app, theirs).review_state == "pending"


def test_deleted_record_cannot_be_reviewed(app, console, officer):
    record_id = push_record(officer)
    officer.push(
        [{"id": record_id, "op": "delete", "hlc": officer.stamp(), "base_rev": 1, "data": {}}]
    )
    person = console("supervisor")
    person.post(f"/console/records/{record_id}/review", {"state": "approved"})
    assert record_row(app, record_id).review_state == "pending"


def test_panel_cannot_review(app, console, officer):
    record_id = push_record(officer)
    response = console("panel", None).post(
        f"/console/records/{record_id}/review", {"state": "approved"}
    )
    assert response.status_code == 403
    assert record_row(app, record_id).review_state == "pending"


def test_history_shows_the_review_decision_and_comment(app, console, officer):
    record_id = push_record(officer)
    person = console("supervisor")
    person.post(
        f"/console/records/{record_id}/review",
        {"state": "returned", "comment": "Add the groups you reached."},
    )
    html = person.text(f"/console/records/{record_id}")
    history = html[html.index("<h2>History</h2>") :]  # after the review panel, which also shows it
    assert "Returned to the officer" in history and "Add the groups you reached." in history
