"""Erasure, restriction, the personal-data review marker and subject access (issue 13)."""

from __future__ import annotations

import csv
import io
import json

import sqlalchemy as sa
from console_helpers import access_log, edit_record, push_record, record_row, user_id
from helpers import DeviceClient

from server.db import db
from server.db.models import Record
from server.records.redaction import MARKERS, RESTRICTED

SECRET = "Zebedee"  # a word no other text in these tests holds
PHONE = "07700 900123"
ERASED = MARKERS["erasure"]


def _pulled(device, record_id: str) -> dict:
    return next(c for c in device.pull().get_json()["changes"] if c["id"] == record_id)


def _everything(app) -> str:
    """Every row of every table as text, and on SQLite what the word index finds."""
    with app.app_context():
        found = []
        for table in db.metadata.sorted_tables:
            found.extend(str(tuple(row)) for row in db.session.execute(sa.select(table)))
        if db.engine.dialect.name == "sqlite":
            hits = db.session.execute(
                sa.text("SELECT rowid FROM record_fts WHERE record_fts MATCH :q"),
                {"q": f'"{SECRET.lower()}"'},
            ).all()
            found.append(f"fts hits {len(hits)}" if hits else "")
        else:
            hits = db.session.execute(
                sa.text("SELECT id FROM record WHERE search_doc @@ to_tsquery('english', :q)"),
                {"q": SECRET.lower()},
            ).all()
            found.append(f"tsvector hits {len(hits)}" if hits else "")
        return "\n".join(found)


def _erase(person, record_id, reason="holds a member of the public's name"):
    return person.post(f"/console/records/{record_id}/erase", {"reason": reason, "confirm": "yes"})


def test_erasure_removes_the_text_everywhere_and_reaches_the_phone(app, console, client, officer):
    record_id = push_record(
        officer,
        summary=f"Spoke to {SECRET} about parking",
        follow_up=f"Ring {SECRET} back",
        place=f"Outside {SECRET}'s house",
    )
    # A second phone of the same officer makes a conflict on the summary: both values are kept.
    phone_b = DeviceClient(client, officer.user["username"], "Second phone")
    edit_record(officer, record_id, 1, summary=f"{SECRET} again, version A")
    result = edit_record(phone_b, record_id, 1, summary=f"{SECRET} version B")
    assert result["status"] == "conflict"
    assert SECRET in _everything(app)

    person = console("supervisor")
    assert _erase(person, record_id).status_code == 302
    row = record_row(app, record_id)
    assert row.summary == row.follow_up == row.place == ERASED
    assert row.data["location"] is None and row.open_conflicts == 0
    assert row.redaction["how"] == "erasure" and row.kind == "face_to_face"
    assert SECRET not in _everything(app)

    pulled = _pulled(officer, record_id)
    assert pulled["data"]["summary"] == ERASED and pulled["data"]["location"] is None
    assert pulled["redaction"]["how"] == "erasure" and pulled["conflicts"] == []
    assert pulled["rev"] == row.rev

    page = person.text(f"/console/records/{record_id}")
    assert "Text erased by" in page and ERASED in page and SECRET not in page
    (entry,) = access_log(app, "erase_text")
    assert entry.target_id == record_id and entry.detail["reason"].startswith("holds")


def test_an_older_phone_edit_cannot_bring_erased_text_back(app, console, officer):
    record_id = push_record(officer, summary="Quiet patrol")
    # The phone edits offline before the erasure reaches it...
    stale = {
        "id": record_id,
        "op": "upsert",
        "hlc": officer.stamp(),
        "base_rev": 1,
        "data": {"summary": f"{SECRET} was there", "people_count": 7, "place": "Quay"},
    }
    assert _erase(console("supervisor"), record_id).status_code == 302
    # ...and pushes after it, even with a stamp later than the erasure's.
    later = dict(stale, hlc=officer.stamp())
    results = officer.push([stale, later]).get_json()["results"]
    assert [r["status"] for r in results] != ["rejected", "rejected"]
    row = record_row(app, record_id)
    assert row.summary == ERASED and row.place == ERASED
    assert row.people_count == 7  # fields that are not free text still merge
    assert SECRET not in _everything(app)
    assert _pulled(officer, record_id)["data"]["summary"] == ERASED


def test_a_refused_edit_of_an_erased_record_does_not_log_the_text(app, console, officer):
    """A change refused for another reason (a bad value; a restricted record) is still kept
    in the change log: without its values for the removed fields."""
    record_id = push_record(officer, summary="Quiet patrol")
    person = console("admin")
    assert _erase(person, record_id).status_code == 302
    bad = {
        "id": record_id,
        "op": "upsert",
        "hlc": officer.stamp(),
        "base_rev": 1,
        "data": {"summary": f"{SECRET} was there", "people_count": -5},
    }
    assert officer.push([bad]).get_json()["results"][0]["status"] == "rejected"
    restricted = person.post(
        f"/console/records/{record_id}/restrict", {"reason": "r", "confirm": "yes"}
    )
    assert restricted.status_code == 302 and record_row(app, record_id).restricted
    bad = dict(bad, hlc=officer.stamp(), data={"summary": f"{SECRET} again"})
    assert officer.push([bad]).get_json()["results"][0]["status"] == "rejected"
    assert SECRET not in _everything(app)


def test_erasure_needs_a_reason_and_a_confirmation_and_is_done_once(app, console, officer):
    record_id = push_record(officer, summary=f"Met {SECRET}")
    person = console("supervisor")
    person.post(f"/console/records/{record_id}/erase", {"reason": "x"})
    person.post(f"/console/records/{record_id}/erase", {"confirm": "yes"})
    assert record_row(app, record_id).redaction is None
    assert _erase(person, record_id).status_code == 302
    rev = record_row(app, record_id).rev
    _erase(person, record_id)
    assert record_row(app, record_id).rev == rev
    assert len(access_log(app, "erase_text")) == 1


def test_a_supervisor_of_another_team_cannot_erase_or_restrict(app, console, officer):
    record_id = push_record(officer, summary=f"Met {SECRET}")
    other = console("supervisor", "NPT-TWO")
    assert _erase(other, record_id).status_code == 404
    response = other.post(
        f"/console/records/{record_id}/restrict", {"reason": "r", "confirm": "yes"}
    )
    assert response.status_code == 404
    assert record_row(app, record_id).redaction is None
    assert not record_row(app, record_id).restricted


def test_a_restricted_record_leaves_exports_pages_and_phones_and_still_counts(
    app, console, officer
):
    secret_id = push_record(officer, summary=f"{SECRET} disputes this", kind="feedback")
    other_id = push_record(officer, summary="Spoke at the school")
    supervisor, admin = console("supervisor"), console("admin", None)
    for record_id in (secret_id, other_id):
        admin.post(f"/console/records/{record_id}/review", {"state": "approved"})
    with app.app_context():
        db.session.execute(sa.text("UPDATE record SET public = true"))
        db.session.commit()
    assert SECRET in supervisor.client.get("/teams/NPT-ONE").get_data(as_text=True)

    response = supervisor.post(
        f"/console/records/{secret_id}/restrict", {"reason": "accuracy disputed", "confirm": "yes"}
    )
    assert response.status_code == 302
    assert record_row(app, secret_id).restricted

    # Supervisors no longer see it; admins do, marked.
    assert supervisor.get(f"/console/records/{secret_id}").status_code == 404
    listing = supervisor.text("/console/records")
    assert secret_id not in listing and other_id in listing
    assert secret_id in admin.text("/console/records")
    assert "only admins can see it" in admin.text(f"/console/records/{secret_id}")
    # Exports leave it out, an admin's too.
    for person in (supervisor, admin):
        exported = person.get("/console/records/export.csv").get_data(as_text=True)
        assert other_id in exported and secret_id not in exported and SECRET not in exported
    # The public page does not show it.
    public = supervisor.client.get("/teams/NPT-ONE").get_data(as_text=True)
    assert SECRET not in public
    # The officer's phone gets it without its text, and cannot change it any more.
    pulled = _pulled(officer, secret_id)
    assert pulled["restricted"] is True and pulled["data"]["summary"] == RESTRICTED
    result = edit_record(officer, secret_id, pulled["rev"], summary="New text")
    assert result["status"] == "rejected" and "restricted" in json.dumps(result["errors"])
    assert record_row(app, secret_id).summary.startswith(SECRET)
    (entry,) = access_log(app, "restrict_record")
    assert entry.detail == {"reason": "accuracy disputed"}


def test_the_review_queue_marks_records_kept_despite_a_warning(app, console, officer):
    flagged = push_record(officer, summary=f"Call back on {PHONE}", pii_confirmed=True)
    plain = push_record(officer, summary="Litter pick on the green")
    person = console("supervisor")
    queue = person.text("/console/records?review=pending&pii=yes")
    assert flagged in queue and plain not in queue
    assert "Personal data?" in person.text("/console/records")
    page = person.text(f"/console/records/{flagged}")
    assert "The officer kept this text after the app warned" in page and "phone" in page
    # Text the app did not flag (an older app) still gets the server's own check on the page.
    unflagged = push_record(officer, summary="Mr Jones was upset")
    assert "This text may hold personal data" in person.text(f"/console/records/{unflagged}")


def test_subject_access_finds_records_and_change_log_entries_and_is_logged(app, console, officer):
    first = push_record(officer, summary="Noise from 14 Elm Road again")
    second = push_record(officer, summary="Patrol")
    edit_record(officer, second, 1, follow_up="Visit 14 elm road on Friday")
    edit_record(officer, second, 2, follow_up="Visited")  # the record no longer says it
    push_record(officer, summary="Nothing relevant")
    admin = console("admin", None)
    response = admin.post(
        "/console/subject-access",
        {"phrase": "14 Elm Road", "reference": "SAR-2026-014", "format": "json"},
    )
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    body = response.get_json()
    assert [r["id"] for r in body["records"]] == [first]
    assert {c["record_id"] for c in body["changes"]} == {first, second}
    (entry,) = access_log(app, "subject_access_export")
    assert entry.detail["reference"] == "SAR-2026-014"
    assert "Elm" not in json.dumps(entry.detail) and entry.detail["records"]["count"] == 1

    text = admin.post(
        "/console/subject-access",
        {"phrase": "elm road", "reference": "SAR-2026-014", "format": "csv"},
    ).get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {(r["source"], r["record_id"], r["field"]) for r in rows} >= {
        ("record", first, "summary"),
        ("change", second, "follow_up"),
    }
    bad = admin.post("/console/subject-access", {"phrase": "ab", "reference": "R"})
    assert bad.status_code == 400
    assert console("supervisor").get("/console/subject-access").status_code in (302, 403)


def test_a_leaver_s_next_push_asks_for_a_sign_in_and_writes_nothing(app, client, console, officer):
    """Issue 11 already revokes on deactivation and on an admin's reset; held here for #13."""
    from helpers import create_change

    spare = DeviceClient(client, "pc.one", "Spare phone")
    console("supervisor").post(f"/console/people/{user_id(app, 'pc.one')}/active", {"active": "no"})
    for phone in (officer, spare):
        response = phone.push([create_change(phone, summary="Queued offline")])
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "token_revoked"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Record)) == 0


def test_an_admin_reset_revokes_every_phone_of_the_account(app, client, console, officer):

    spare = DeviceClient(client, "pc.one", "Spare phone")
    console("admin", None).post(
        f"/console/users/{user_id(app, 'pc.one')}/reset-password",
        {"password": "temporary-pass-123"},
    )
    for phone in (officer, spare):
        assert phone.pull().get_json()["error"]["code"] == "token_revoked"


def test_an_admin_s_phone_pulls_a_restricted_record_whole(app, client, console, officer):
    record_id = push_record(officer, summary=f"{SECRET} disputes this")
    admin = console("admin", None)
    admin.post(f"/console/records/{record_id}/restrict", {"reason": "dispute", "confirm": "yes"})
    phone = DeviceClient(client, admin.username, "Admin phone")
    pulled = _pulled(phone, record_id)
    assert pulled["restricted"] is True and pulled["data"]["summary"].startswith(SECRET)
    supervisor_phone = DeviceClient(client, console("supervisor").username, "Sergeant phone")
    assert SECRET not in json.dumps(_pulled(supervisor_phone, record_id))


def test_subject_access_folds_case_beyond_ascii(app, console, officer):
    """A phrase with an accent finds the text in any case, on SQLite as on PostgreSQL."""
    found = push_record(officer, summary="Spoke to ZOË at the bus stop")
    push_record(officer, summary="Spoke to Zoe's neighbour")
    body = (
        console("admin", None)
        .post(
            "/console/subject-access", {"phrase": "zoë at", "reference": "SAR-1", "format": "json"}
        )
        .get_json()
    )
    assert [r["id"] for r in body["records"]] == [found]
    assert {c["record_id"] for c in body["changes"]} == {found}


def test_the_subject_access_command_writes_a_file_and_logs_it(app, officer, runner, tmp_path):
    record_id = push_record(officer, summary="Noise from 14 Elm Road again")
    out = tmp_path / "sar.json"
    result = runner.invoke(
        args=["subject-access", "elm road", "--reference", "SAR-1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in json.loads(out.read_text())["records"]] == [record_id]
    assert access_log(app, "subject_access_export")[0].user_id is None
    short = runner.invoke(args=["subject-access", "el", "--reference", "SAR-1"])
    assert short.exit_code != 0 and "at least 3" in short.output


def test_the_sqlite_export_leaves_restricted_records_and_their_changes_out(
    app, console, officer, runner, tmp_path
):
    import sqlite3

    kept = push_record(officer, summary="Litter pick")
    hidden = push_record(officer, summary=f"{SECRET} disputes this")
    edit_record(officer, hidden, 1, follow_up=f"{SECRET} rang")
    admin = console("admin", None)
    admin.post(f"/console/records/{hidden}/restrict", {"reason": "dispute", "confirm": "yes"})
    target = tmp_path / "out.sqlite"
    result = runner.invoke(args=["export", "--sqlite", str(target), "--as", admin.username])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(target) as out:
        records = [r[0] for r in out.execute("SELECT id FROM records")]
        changes = {r[0] for r in out.execute("SELECT record_id FROM changes")}
        everything = str(out.execute("SELECT * FROM records").fetchall()) + str(
            out.execute("SELECT * FROM changes").fetchall()
        )
    assert records == [kept] and changes == {kept} and SECRET not in everything
