"""Two requests refreshing the facts and rollups at once: neither catches a batch up twice, and
one that started before the other finished does not mistake it for a restored backup.
(Found in review: on SQLite the second refresh read the batch the first was writing.)"""

from __future__ import annotations

import threading

import sqlalchemy as sa

from server.assessment import facts, rollup
from server.db import db
from server.db.models import AssessmentFact as Fact
from server.db.models import AssessmentState, Record
from server.db.writers import allocate_seqs


def totals() -> tuple[int, int]:
    month = db.session.scalar(sa.select(sa.func.sum(rollup.MonthTotal.records)))
    fact = db.session.scalar(
        sa.select(sa.func.count()).select_from(Fact).where(Fact.deleted == sa.false())
    )
    return month, fact


def test_two_refreshes_at_once_count_each_record_once(app, force, monkeypatch):
    officers = [force.officer(code) for code in ("NPT-A", "NPT-B", "NPT-C")]
    force.add(officers[0], "2025-05-10 10:00")
    facts.refresh()
    # Three teams in one month: more than rollup.WHOLE_UP_TO, so the rollups follow by deltas.
    for officer in officers:
        force.add(officer, "2025-05-12 10:00")
    db.session.commit()

    # B pauses after reading its batch; A starts then. Before the fix A caught up the same batch
    # while B waited, and B then added it again. Now A waits for B's lock (B gives up waiting
    # for A after a moment and finishes first).
    b_has_batch, a_done = threading.Event(), threading.Event()
    real_before = rollup.Batch.before

    def before(self):
        if threading.current_thread().name == "B":
            b_has_batch.set()
            a_done.wait(2)
        real_before(self)

    monkeypatch.setattr(rollup.Batch, "before", before)
    errors = []

    def run(wait=None):
        try:
            with app.app_context():
                if wait:
                    wait.wait(10)
                facts.refresh()
                db.session.remove()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            if threading.current_thread().name == "A":
                a_done.set()

    b = threading.Thread(target=run, name="B")
    a = threading.Thread(target=run, args=(b_has_batch,), name="A")
    b.start()
    a.start()
    a.join()
    b.join()
    assert not errors, errors
    db.session.expire_all()
    assert totals() == (4, 4)


def test_a_refresh_overtaken_by_another_is_not_a_restore(app, force, monkeypatch):
    pc = force.officer("NPT-A")
    ids = [force.add(pc, "2025-05-10 10:00"), force.add(pc, "2025-05-11 10:00")]
    facts.refresh()
    force.add(pc, "2025-05-12 10:00")  # something for this refresh to catch up

    rebuilds = []
    real_rebuild, real_state = rollup.rebuild_all, facts._state
    monkeypatch.setattr(
        rollup, "rebuild_all", lambda tz: (rebuilds.append(tz), real_rebuild(tz))[1]
    )

    def other_request():
        with app.app_context():
            [seq] = allocate_seqs(db.session, 1)  # as a push takes it
            db.session.execute(sa.update(Record).where(Record.id == ids[0]).values(seq=seq))
            db.session.commit()  # a push lands...
            facts.refresh()  # ...and another request catches up to it first
            db.session.remove()

    def state_after_race():
        if not getattr(state_after_race, "done", False):
            state_after_race.done = True
            thread = threading.Thread(target=other_request)
            thread.start()
            thread.join()
        return real_state()

    monkeypatch.setattr(facts, "_state", state_after_race)
    facts.refresh()
    assert rebuilds == []
    db.session.expire_all()
    assert totals() == (3, 3)


def _undo_v1_1_0() -> None:
    """Take away what revisions v1_1_0_security, v1_2_0_oidc, v1_2_0_data_protection,
    v1_2_0_console, v1_3_0_alerts and v1_4_0_catch_up_index added, as a 1.0.0 database never
    had it."""
    run = db.session.execute
    run(sa.text("DROP TABLE catch_up_state"))
    run(sa.text("DROP INDEX ix_alert_dismissal_team_alert"))
    run(sa.text("DROP TABLE alert_dismissal"))
    run(sa.text("DROP INDEX ix_record_created_id"))
    run(sa.text("DROP INDEX ix_record_deleted"))
    if db.engine.dialect.name == "sqlite":
        run(sa.text("DROP TRIGGER access_log_no_update"))
        run(sa.text("DROP TRIGGER access_log_no_delete"))
    else:
        run(sa.text("DROP TRIGGER access_log_append_only ON access_log"))
        run(sa.text("DROP TRIGGER access_log_no_truncate ON access_log"))
        run(sa.text("DROP FUNCTION access_log_refuse()"))
    run(sa.text("DROP TABLE console_session"))
    # ... and what v1_2_0_oidc added (single sign-on).
    run(sa.text("DROP TABLE sign_in_handoff"))
    run(sa.text("DROP INDEX ix_user_account_oidc"))
    for column in ("oidc_issuer", "oidc_subject", "oidc_refresh", "oidc_checked_at", "oidc_left"):
        run(sa.text(f"ALTER TABLE user_account DROP COLUMN {column}"))
    for table, column in (
        ("access_log", "device_id"),
        ("access_log", "session_id"),
        ("user_account", "must_change_password"),
        ("user_account", "password_changed_at"),
        ("record", "pii_confirmed"),
        ("record", "restricted"),
        ("record", "redaction"),
        ("planned_meeting", "publicised_at"),
        ("user_account", "email"),
    ):
        run(sa.text(f"ALTER TABLE {table} DROP COLUMN {column}"))


def test_a_1_0_0_database_made_before_the_rollups_gets_them_from_db_upgrade(app, force):
    """1.0.0 made the rollup tables on demand; now adopting such a database makes them (and
    marks them unbuilt), so no request has to."""
    from server.db import migrate

    pc = force.officer("NPT-A")
    force.add(pc, "2025-05-10 10:00")
    facts.refresh()
    for model in (*rollup.TABLES, rollup.RollupState):
        model.__table__.drop(db.session.connection())
    _undo_v1_1_0()  # back to 1.0.0's tables...
    db.session.execute(sa.text("DROP TABLE alembic_version"))  # ...made before migrations
    db.session.commit()
    before, after = migrate.upgrade(db.engine.url)
    assert before.legacy and after.at_head
    rollups = {m.__tablename__ for m in (*rollup.TABLES, rollup.RollupState)}
    assert not before.tables & rollups
    # v1_1_0 adds console_session, v1_2_0 sign_in_handoff, v1_3_0 alert_dismissal, v1_4_0
    # catch_up_state
    added = {"console_session", "sign_in_handoff", "alert_dismissal", "catch_up_state"}
    assert after.tables == before.tables | rollups | added
    force.add(pc, "2025-05-11 10:00")
    facts.refresh()
    db.session.expire_all()
    assert totals() == (2, 2)


def test_the_first_refresh_of_a_new_database_wins_the_race_for_the_state_row(
    app, force, monkeypatch
):
    """A grid and a pull's alerts can make the first refresh at once: the one that finds no
    state row and then loses the insert to the other waits on the row (found under a shift's
    load on PostgreSQL: a duplicate key, answered 500). SQLite's writers queue on its lock."""
    if db.engine.dialect.name == "sqlite":
        return
    force.add(force.officer("NPT-A"), "2025-05-10 10:00")
    db.session.execute(sa.delete(AssessmentState))
    db.session.commit()
    real = facts.postgresql_insert

    def other_refresh_inserts_first(table):
        with db.engine.connect() as other:  # the other refresh, committed in between
            other.execute(sa.insert(AssessmentState).values(id=1, seq=0))
            other.commit()
        return real(table)

    monkeypatch.setattr(facts, "postgresql_insert", other_refresh_inserts_first)
    assert facts.refresh() == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AssessmentState)) == 1
