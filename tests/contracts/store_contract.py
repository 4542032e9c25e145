"""The Store contract: what the sync engine and the server rely on from any Store.

In the style of Kinto's storage tests: `StoreContract` holds the tests and needs one fixture,
`env`, with
- `store(writer)`: the Store a batch by `writer` (an Owner) saves through, the writers' lock
  taken where there is one;
- `commit()` after a successful save, `abort()` after a failed one;
- `owners`: two officers' Owners in two teams.
tests/sync/test_memory_store_contract.py runs it on MemoryStore, and
tests/server/test_sql_store_contract.py on SqlStore (SQLite, or PostgreSQL when
BEATBOOK_TEST_DATABASE_URL is set).
"""

from __future__ import annotations

import uuid

import pytest

from sync import (
    HLC,
    BatchWrites,
    Change,
    RecordWrite,
    Resolution,
    ReviewWrite,
    Scope,
    StaleWriteError,
    apply_batch,
)

T = 1_764_063_000_000
PHONE_A = "3f2a9c0d4e5b6a7c8d9e0f1a2b3c4d5e"
PHONE_B = "b7c1d2e3f4a5968778695a4b3c2d1e0f"


def _fields(**overrides):
    return {
        "occurred_at": "2025-11-25T10:00:00+00:00",
        "kind": "face_to_face",
        "summary": "Spoke with shop staff.",
        "standards": ["F2F"],
        "groups": [],
        **overrides,
    }


class StoreContract:
    def push(self, env, writer, changes, now_ms=T + 1000, resolutions=()):
        store = env.store(writer)
        outcome = apply_batch(
            store,
            changes,
            now_ms=now_ms,
            skew_ms=0,
            validate=lambda c, e: None,
            authorize=lambda c, e: None,
            resolutions=resolutions,
        )
        env.commit()
        return outcome

    def create(self, env, writer, node=PHONE_A, ms=T, **fields):
        record_id = str(uuid.uuid4())
        change = Change(record_id, "upsert", str(HLC(ms, 0, node)), None, _fields(**fields))
        self.push(env, writer, [change])
        return record_id, change.hlc

    def everything(self, env, after=0):
        return env.store(None).pull(after, 1000, Scope(None, None))

    def test_a_saved_record_loads_with_its_owner(self, env):
        officer, _ = env.owners
        record_id, _ = self.create(env, officer, summary="First words")
        store = env.store(officer)
        assert store.owner(record_id) is None  # not loaded yet
        state = store.load([record_id, "no-such-record"])[record_id]
        assert (state.rev, state.fields["summary"], state.deleted) == (1, "First words", False)
        assert store.owner(record_id) == officer
        env.abort()

    def test_an_accepted_change_is_seen_with_its_first_result(self, env):
        officer, _ = env.owners
        record_id, stamp = self.create(env, officer)
        store = env.store(officer)
        [(key, result)] = store.seen([(record_id, stamp), (record_id, "other")]).items()
        assert key == (record_id, stamp) and (result.status, result.rev) == ("applied", 1)
        env.abort()

    def test_a_stale_save_raises_and_writes_nothing(self, env):
        officer, _ = env.owners
        record_id, _ = self.create(env, officer, summary="kept")
        store = env.store(officer)
        state = store.load([record_id])[record_id]
        moved = type(state)(
            state.id, state.rev + 1, {**state.fields, "summary": "lost"}, state.meta, state.deleted
        )
        other = type(state)(str(uuid.uuid4()), 1, _fields(), {}, False)
        with pytest.raises(StaleWriteError):
            store.save(
                BatchWrites(
                    [
                        RecordWrite(other, None, str(HLC(T, 0, PHONE_A)), T),
                        RecordWrite(moved, state.rev + 5, str(HLC(T, 1, PHONE_A)), T),
                    ]
                )
            )
        env.abort()
        page = self.everything(env)
        assert [(r.id, r.fields["summary"]) for r in page.records] == [(record_id, "kept")]

    def test_pull_is_in_save_order_with_a_cursor_that_never_skips(self, env):
        officer, _ = env.owners
        first, _ = self.create(env, officer)
        second, _ = self.create(env, officer)
        edit = Change(first, "upsert", str(HLC(T + 5, 0, PHONE_A)), 1, {"summary": "again"})
        self.push(env, officer, [edit])
        page = self.everything(env)
        assert [r.id for r in page.records] == [second, first]
        assert page.records[0].seq < page.records[1].seq == page.cursor
        assert self.everything(env, after=page.cursor).records == []
        one = env.store(None).pull(0, 1, Scope(None, None))
        assert one.more and [r.id for r in one.records] == [second]
        rest = env.store(None).pull(one.cursor, 1, Scope(None, None))
        assert not rest.more and [r.id for r in rest.records] == [first]

    def test_pull_hands_out_state_stamps_and_owner(self, env):
        officer, _ = env.owners
        record_id, stamp = self.create(env, officer, summary="Met the warden")
        [record] = self.everything(env).records
        assert (record.id, record.rev, record.deleted) == (record_id, 1, False)
        assert record.fields["summary"] == "Met the warden"
        assert record.stamps["summary"] == stamp
        assert record.owner == officer
        assert (record.review.state, record.conflicts) == ("pending", [])

    def test_pull_shows_a_reader_only_what_its_scope_sees(self, env):
        mine, theirs = env.owners
        own, _ = self.create(env, mine)
        other, _ = self.create(env, theirs, node=PHONE_B)
        store = env.store(None)
        assert [
            r.id
            for r in store.pull(0, 10, Scope(frozenset({mine.team_id}), mine.officer_id)).records
        ] == [own]
        # An officer moved to another team still pulls what they made.
        assert [
            r.id
            for r in store.pull(0, 10, Scope(frozenset({theirs.team_id}), mine.officer_id)).records
        ] == [own, other]
        assert [r.id for r in store.pull(0, 10, Scope(frozenset(), None)).records] == []

    def test_a_review_moves_the_record_and_is_pulled(self, env):
        officer, sergeant = env.owners
        record_id, _ = self.create(env, officer)
        cursor = self.everything(env).cursor
        store = env.store(sergeant)
        store.load([record_id])
        store.save(
            BatchWrites(
                reviews=[
                    ReviewWrite(
                        record_id, "returned", "Add the place.", sergeant.officer_id, T + 2000
                    )
                ]
            )
        )
        env.commit()
        [record] = self.everything(env, after=cursor).records
        assert (record.review.state, record.review.comment) == ("returned", "Add the place.")
        assert record.review.at_ms == T + 2000 and record.rev == 1

    def test_an_edit_from_a_phone_sends_a_reviewed_record_back_for_review(self, env):
        officer, sergeant = env.owners
        record_id, _ = self.create(env, officer)
        store = env.store(sergeant)
        store.load([record_id])
        store.save(
            BatchWrites(
                reviews=[ReviewWrite(record_id, "approved", "", sergeant.officer_id, T + 2000)]
            )
        )
        env.commit()
        self.push(
            env,
            officer,
            [Change(record_id, "upsert", str(HLC(T + 3000, 0, PHONE_A)), 1, {"summary": "Fixed"})],
        )
        [record] = self.everything(env).records
        assert record.review.state == "pending"

    def test_a_review_of_a_missing_record_is_stale(self, env):
        officer, _ = env.owners
        store = env.store(officer)
        with pytest.raises(StaleWriteError):
            store.save(
                BatchWrites(
                    reviews=[ReviewWrite("no-such-record", "approved", "", officer.officer_id, T)]
                )
            )
        env.abort()

    def _conflicted(self, env):
        officer, _ = env.owners
        record_id, _ = self.create(env, officer, summary="first")
        for node, value, ms in ((PHONE_A, "from A", T + 10), (PHONE_B, "from B", T + 20)):
            self.push(
                env,
                officer,
                [Change(record_id, "upsert", str(HLC(ms, 0, node)), 1, {"summary": value})],
                now_ms=T + 100,
            )
        [record] = self.everything(env).records
        [conflict] = record.conflicts
        return record, conflict

    def test_a_conflict_is_pulled_open_until_resolved_with_its_value(self, env):
        officer, sergeant = env.owners
        record, conflict = self._conflicted(env)
        assert conflict.field == "summary"
        assert {conflict.winner["value"], conflict.loser["value"]} == {"from A", "from B"}
        stamp = str(HLC(T + 500, 0, "server"))
        chosen = Change(record.id, "upsert", stamp, record.rev, {"summary": "agreed"})
        resolution = Resolution(
            conflict.id, record.id, "agreed", stamp, sergeant.officer_id, T + 500
        )
        self.push(env, sergeant, [chosen], now_ms=T + 500, resolutions=[resolution])
        [after] = self.everything(env, after=record.seq).records
        assert after.conflicts == [] and after.fields["summary"] == "agreed"

    def test_keeping_the_current_value_still_closes_the_conflict_and_moves_the_record(self, env):
        _, sergeant = env.owners
        record, conflict = self._conflicted(env)
        current = record.fields["summary"]
        stamp = str(HLC(T + 500, 0, "server"))
        keep = Change(record.id, "upsert", stamp, record.rev, {})
        self.push(
            env,
            sergeant,
            [keep],
            now_ms=T + 500,
            resolutions=[
                Resolution(conflict.id, record.id, current, stamp, sergeant.officer_id, T + 500)
            ],
        )
        [after] = self.everything(env, after=record.seq).records
        assert after.conflicts == [] and after.fields["summary"] == current

    def test_a_conflict_closes_once(self, env):
        _, sergeant = env.owners
        record, conflict = self._conflicted(env)
        closing = Resolution(
            conflict.id,
            record.id,
            "x",
            str(HLC(T + 500, 0, "server")),
            sergeant.officer_id,
            T + 500,
        )
        store = env.store(sergeant)
        store.load([record.id])
        store.save(BatchWrites(resolutions=[closing]))
        env.commit()
        store = env.store(sergeant)
        store.load([record.id])
        with pytest.raises(StaleWriteError):
            store.save(BatchWrites(resolutions=[closing]))
        env.abort()
