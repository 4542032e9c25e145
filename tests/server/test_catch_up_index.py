"""record_standard and record_group as a catch-up index (server/records/codes.py): a push does
not write them, every reader catches them up first, and the indexer thread catches up after a
commit."""

from __future__ import annotations

import random
import re
import time

import pytest
import sqlalchemy as sa
from helpers import create_change, push_edit

from server.db import db
from server.db.models import CatchUpState, Record, RecordGroup, RecordStandard
from server.db.writers import allocate_seqs
from server.records import codes, indexer
from server.records.indexer import KEY, Indexer

STANDARDS = ["F2F", "KCL", "SOCIAL", "PARTNER", "SELDOM"]
GROUPS = ["young_people", "older_people", "faith_groups", "businesses"]


def _rows(model) -> set[tuple[str, str]]:
    return {tuple(row) for row in db.session.execute(sa.select(model.record_id, model.code))}


def _codes(data, key: str) -> list[str]:
    """The codes the index holds for `data`: the strings of the array `key`, if it is one."""
    value = data.get(key) if isinstance(data, dict) else None
    return [c for c in value if isinstance(c, str)] if isinstance(value, list) else []


def _from_data() -> tuple[set, set]:
    standards, groups = set(), set()
    for record_id, data in db.session.execute(sa.select(Record.id, Record.data)):
        standards.update((record_id, c) for c in _codes(data, "standards"))
        groups.update((record_id, c) for c in _codes(data, "groups"))
    return standards, groups


def _mark() -> int:
    """The state row's seq; 0 before the first catch-up that had work makes the row."""
    mark = db.session.scalar(sa.select(CatchUpState.seq).where(CatchUpState.name == codes.NAME))
    return mark or 0


_WRITE = re.compile(r"\b(INSERT|DELETE)\b.*\b(record_standard|record_group)\b", re.I | re.S)


def _code_writes(run) -> list[tuple[str, int]]:
    """(INSERT or DELETE, table, rows changed) of each statement on the code tables while
    `run()` runs; its result is returned last."""
    writes: list = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        found = _WRITE.search(statement)
        if found:
            writes.append((found[1].upper(), found[2], cursor.rowcount))

    sa.event.listen(db.engine, "after_cursor_execute", seen)
    try:
        result = run()
    finally:
        sa.event.remove(db.engine, "after_cursor_execute", seen)
    return [*writes, result]


def _set_data(data_of: dict) -> None:
    """Write records' data as a push would (a new seq each), bypassing the push's checks."""
    seqs = allocate_seqs(db.session, len(data_of))
    for seq, (record_id, data) in zip(seqs, data_of.items()):
        db.session.execute(
            sa.update(Record).where(Record.id == record_id).values(data=data, seq=seq)
        )
    db.session.commit()


def test_a_push_leaves_the_rows_to_the_catch_up_which_makes_them_equal_the_data(app, device):
    change = create_change(device, standards=["F2F", "KCL"], groups=["young_people"])
    device.push([change])
    with app.app_context():
        assert _rows(RecordStandard) == set()  # not written by the push
        assert codes.catch_up() == 1
        assert _rows(RecordStandard) == {(change["id"], "F2F"), (change["id"], "KCL")}
        assert _rows(RecordGroup) == {(change["id"], "young_people")}
        assert codes.catch_up() == 0  # nothing new: no lock, no write
        assert _mark() == db.session.scalar(sa.select(sa.func.max(Record.seq)))


def test_random_edits_and_deletes_always_catch_up_to_the_data(app, device):
    rng = random.Random(12)
    revs: dict[str, int] = {}
    for step in range(40):
        if revs and rng.random() < 0.6:
            record_id = rng.choice(sorted(revs))
            if rng.random() < 0.15:
                change = {"id": record_id, "op": "delete", "hlc": device.stamp(), "data": {}}
                result = device.push([{**change, "base_rev": revs[record_id]}]).get_json()
                revs[record_id] = result["results"][0]["rev"]
            else:
                data = {"standards": rng.sample(STANDARDS, rng.randint(1, 3))}
                if rng.random() < 0.5:
                    data["groups"] = rng.sample(GROUPS, rng.randint(0, 2))
                revs[record_id] = push_edit(device, record_id, revs[record_id], **data)["rev"]
        else:
            change = create_change(device, groups=rng.sample(GROUPS, rng.randint(0, 3)))
            revs[change["id"]] = device.push([change]).get_json()["results"][0]["rev"]
        if step % 7 == 0:  # catch up at odd moments, sometimes with several writes behind
            with app.app_context():
                codes.catch_up()
                assert (_rows(RecordStandard), _rows(RecordGroup)) == _from_data()
    with app.app_context():
        codes.catch_up()
        assert (_rows(RecordStandard), _rows(RecordGroup)) == _from_data()


def test_an_edit_that_keeps_the_codes_writes_no_code_rows(app, device):
    change = create_change(device, standards=["F2F"], groups=["young_people"])
    device.push([change])
    with app.app_context():
        codes.catch_up()
    push_edit(device, change["id"], 1, summary="A new summary, the same codes")
    with app.app_context():
        *writes, done = _code_writes(codes.catch_up)
        assert done == 1
    assert writes and all(rows == 0 for _, _, rows in writes), writes


def test_an_edit_that_changes_the_codes_writes_only_the_difference(app, device):
    change = create_change(device, standards=["F2F", "KCL"], groups=["young_people"])
    other = create_change(device, standards=["SOCIAL"], groups=["businesses"])
    device.push([change, other])
    with app.app_context():
        codes.catch_up()
    push_edit(device, change["id"], 1, standards=["KCL", "PARTNER"], groups=["faith_groups"])
    with app.app_context():
        *writes, done = _code_writes(codes.catch_up)
        assert done == 1
        assert _rows(RecordStandard) == {
            (change["id"], "KCL"),
            (change["id"], "PARTNER"),
            (other["id"], "SOCIAL"),
        }
        assert _rows(RecordGroup) == {(change["id"], "faith_groups"), (other["id"], "businesses")}
    changed: dict = {}
    for verb, table, rows in writes:
        changed[verb, table] = changed.get((verb, table), 0) + rows
    assert changed == {  # KCL, and the other record, left alone
        ("DELETE", "record_standard"): 1,
        ("INSERT", "record_standard"): 1,
        ("DELETE", "record_group"): 1,
        ("INSERT", "record_group"): 1,
    }


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"standards": None, "groups": None},
        {"standards": [], "groups": []},
        {"standards": "F2F", "groups": {"young_people": True}},
        {"standards": 3, "groups": False},
        None,
    ],
    ids=["missing", "null", "empty", "not-arrays", "scalars", "null-data"],
)
def test_data_without_code_arrays_holds_no_codes(app, device, data):
    change = create_change(device, standards=["F2F"], groups=["young_people"])
    kept = create_change(device, standards=["KCL"], groups=["businesses"])
    device.push([change, kept])
    with app.app_context():
        codes.catch_up()
        _set_data({change["id"]: data})
        assert codes.catch_up() == 1
        assert _rows(RecordStandard) == {(kept["id"], "KCL")}
        assert _rows(RecordGroup) == {(kept["id"], "businesses")}
        assert (_rows(RecordStandard), _rows(RecordGroup)) == _from_data()


def test_only_the_strings_of_a_code_array_are_codes(app, device):
    change = create_change(device, standards=["F2F"])
    device.push([change])
    with app.app_context():
        codes.catch_up()
        data = {"standards": ["KCL", 7, None, ["SOCIAL"], {"a": "b"}, "KCL"], "groups": [True]}
        _set_data({change["id"]: data})
        assert codes.catch_up() == 1
        assert _rows(RecordStandard) == {(change["id"], "KCL")}
        assert _rows(RecordGroup) == set()


def test_a_long_backlog_is_caught_up_in_steps(app, device, monkeypatch):
    monkeypatch.setattr(codes, "BATCH", 3)
    steps: list[tuple[int, int]] = []
    rewrite_range = codes.rewrite_range

    def step(session, low, high):
        steps.append((low, high))
        rewrite_range(session, low, high)

    monkeypatch.setattr(codes, "rewrite_range", step)
    rng = random.Random(3)
    changes = [
        create_change(device, standards=rng.sample(STANDARDS, 2), groups=rng.sample(GROUPS, 1))
        for _ in range(8)
    ]
    device.push(changes)
    with app.app_context():
        assert codes.catch_up() == 8
        assert {r for r, _ in _rows(RecordStandard)} == {c["id"] for c in changes}
        assert (_rows(RecordStandard), _rows(RecordGroup)) == _from_data()
        assert len(steps) == 3  # 3 + 3 + 2 records
        assert [low for low, _ in steps[1:]] == [high for _, high in steps[:-1]]
        assert steps[-1][1] == _mark() == db.session.scalar(sa.select(sa.func.max(Record.seq)))

        # a second backlog: edits to records in every earlier step, and some without codes
        steps.clear()
        _set_data(
            {
                c["id"]: {"standards": rng.sample(STANDARDS, rng.randint(0, 3))} if i % 3 else {}
                for i, c in enumerate(changes[::-1])
            }
        )
        assert codes.catch_up() == 8
        assert len(steps) == 3
        assert (_rows(RecordStandard), _rows(RecordGroup)) == _from_data()


def test_the_catch_up_never_passes_a_write_still_in_flight(app, device):
    """PostgreSQL: a seq taken by a writer that has not committed holds the mark below it, so
    the record it is writing is caught up once it commits, not skipped."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite has one writer at a time")
    from sqlalchemy.orm import Session

    with app.app_context():
        in_flight = Session(db.engine)
        try:
            held = allocate_seqs(in_flight, 1)[0]
            change = create_change(device, standards=["PARTNER"])
            device.push([change])  # commits with a higher seq
            codes.catch_up()
            assert _mark() < held
            assert _rows(RecordStandard) == set()
        finally:
            in_flight.rollback()
            in_flight.close()
        codes.catch_up()
        assert _rows(RecordStandard) == {(change["id"], "PARTNER")}


def test_the_indexer_thread_catches_up_after_a_push_commits(app, device):
    app.extensions[KEY] = Indexer(app)  # as `beatbook serve` runs (tests run without it)
    try:
        change = create_change(device, standards=["F2F", "SOCIAL"])
        device.push([change])
        deadline = time.monotonic() + 10
        with app.app_context():
            while time.monotonic() < deadline:
                db.session.rollback()  # a fresh read each time
                if _rows(RecordStandard):
                    break
                time.sleep(0.02)
            assert _rows(RecordStandard) == {(change["id"], "F2F"), (change["id"], "SOCIAL")}
    finally:
        del app.extensions[KEY]


def _counted_catch_ups(monkeypatch, quiet: float, most: float) -> list[float]:
    monkeypatch.setattr(indexer, "QUIET_SECONDS", quiet)
    monkeypatch.setattr(indexer, "MOST_SECONDS", most)
    calls: list[float] = []
    monkeypatch.setattr(codes, "catch_up", lambda: calls.append(time.monotonic()))
    return calls


def _wait_for(calls: list, count: int, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while len(calls) < count and time.monotonic() < deadline:
        time.sleep(0.01)


def test_the_indexer_covers_a_burst_of_commits_in_one_catch_up_after_a_lull(app, monkeypatch):
    calls = _counted_catch_ups(monkeypatch, quiet=0.5, most=30)
    worker = Indexer(app)
    for _ in range(10):  # pokes 0.02 s apart: well inside the lull of 0.5 s
        worker.poke()
        last = time.monotonic()
        time.sleep(0.02)
    _wait_for(calls, 1)
    time.sleep(0.6)  # no second catch-up follows
    assert len(calls) == 1 and calls[0] - last >= 0.4


def test_under_a_steady_stream_of_commits_the_indexer_still_catches_up(app, monkeypatch):
    calls = _counted_catch_ups(monkeypatch, quiet=0.2, most=0.3)
    worker = Indexer(app)
    end = time.monotonic() + 1.5
    while time.monotonic() < end:  # never a lull of 0.2 s
        worker.poke()
        last = time.monotonic()
        time.sleep(0.05)
    assert [t for t in calls if t < end]  # MOST_SECONDS after the first poke, not after the lull
    # and the last commit is covered by a catch-up that started after it
    deadline = time.monotonic() + 5
    while not [t for t in calls if t >= last] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [t for t in calls if t >= last]


def test_the_indexer_is_on_outside_tests(tmp_path):
    from server import create_app

    url = f"sqlite:///{tmp_path / 'b.sqlite'}"
    settings = {"DATABASE_URL": url, "SECRET_KEY": "x", "CHECK_SCHEMA": False}
    assert KEY in create_app(settings).extensions
    assert KEY not in create_app({**settings, "TESTING": True}).extensions


def test_going_back_to_1_3_0_writes_the_rows_still_behind(app, device):
    """The version before pushes wrote the rows itself and would never catch up: a downgrade
    makes them current first."""
    from alembic import command

    from server.db import migrate

    change = create_change(device, standards=["KCL"], groups=["faith_groups"])
    device.push([change])
    with app.app_context():
        url = db.engine.url
        db.session.remove()
        db.engine.dispose()
    engine = migrate.migration_engine(url)
    try:
        with engine.begin() as conn:
            command.downgrade(migrate.config(conn), "v1_3_0_alerts")
        with engine.connect() as conn:
            rows = {
                table: [
                    tuple(r) for r in conn.execute(sa.text(f"SELECT record_id, code FROM {table}"))
                ]
                for table in ("record_standard", "record_group")
            }
            assert not sa.inspect(conn).has_table("catch_up_state")
    finally:
        engine.dispose()
    assert rows == {
        "record_standard": [(change["id"], "KCL")],
        "record_group": [(change["id"], "faith_groups")],
    }
