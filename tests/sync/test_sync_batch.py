import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sync_testkit import A, B, C, T, delete, stamp, up

from sync import (
    HLC,
    Change,
    MemoryStore,
    RecordState,
    StaleWriteError,
    apply_batch,
    correct,
)


class SpyStore(MemoryStore):
    """MemoryStore that records how it was called."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def seen(self, keys):
        self.calls.append(("seen", sorted(keys)))
        return super().seen(keys)

    def load(self, ids):
        self.calls.append(("load", sorted(ids)))
        return super().load(ids)

    def save(self, writes):
        self.calls.append(("save", len(writes.changes)))
        return super().save(writes)


def push(store, changes, *, now_ms=T + 60_000, skew_ms=0, validate=None, authorize=None):
    return apply_batch(
        store,
        changes,
        now_ms=now_ms,
        skew_ms=skew_ms,
        validate=validate or (lambda change, existing: None),
        authorize=authorize or (lambda change, existing: None),
    )


def test_one_result_per_change_in_request_order_and_one_call_each():
    store = SpyStore()
    changes = [
        up(stamp(T, A), None, "r1", summary="one"),
        up(stamp(T, B), None, "r2", x=1),
        up(stamp(T + 1, A), None, "r3", y=2),
    ]
    out = push(store, changes)
    assert [(r.id, r.hlc, r.status, r.rev) for r in out.results] == [
        ("r1", stamp(T, A), "applied", 1),
        ("r2", stamp(T, B), "applied", 1),
        ("r3", stamp(T + 1, A), "applied", 1),
    ]
    assert [name for name, _ in store.calls] == ["seen", "load", "save"]
    assert store.calls[1] == ("load", ["r1", "r2", "r3"])
    assert store.records["r2"].fields == {"x": 1}


def test_store_is_called_once_each_even_for_an_empty_batch():
    store = SpyStore()
    out = push(store, [])
    assert out.results == [] and [name for name, _ in store.calls] == ["seen", "load", "save"]


def test_changes_to_one_record_chain_within_a_batch():
    store = SpyStore()
    out = push(
        store,
        [
            up(stamp(T, A), None, summary="first", place="Co-op"),
            up(stamp(T + 1, A), 1, summary="second"),
            delete(stamp(T + 2, B), 2),
        ],
    )
    assert [(r.status, r.rev) for r in out.results] == [
        ("applied", 1),
        ("applied", 2),
        ("applied", 3),
    ]
    assert len(out.writes.records) == 1
    write = out.writes.records[0]
    assert write.created and write.hlc == stamp(T + 2, B)
    assert write.state.rev == 3 and write.state.deleted
    assert write.state.fields == {"summary": "second", "place": "Co-op"}


def test_validate_and_authorize_see_the_chained_state():
    seen_by_validate = []

    def validate(change, existing):
        seen_by_validate.append(existing.rev if existing else None)

    push(
        MemoryStore(), [up(stamp(T, A), None, x=1), up(stamp(T + 1, A), 1, x=2)], validate=validate
    )
    assert seen_by_validate == [None, 1]


def test_duplicates_within_a_batch_answer_the_first_result():
    store = SpyStore()
    change = up(stamp(T, A), None, summary="x")
    out = push(store, [change, up(stamp(T, A), None, summary="different body, same key"), change])
    assert [r.status for r in out.results] == ["applied", "duplicate", "duplicate"]
    assert {r.rev for r in out.results} == {1}
    assert out.results[1].first_status == "applied"
    assert len(out.writes.changes) == 1 and store.records["rec-1"].fields == {"summary": "x"}
    assert store.calls[0] == ("seen", [("rec-1", stamp(T, A))])


def test_seen_changes_answer_duplicate_with_their_first_result():
    store = MemoryStore()
    push(store, [up(stamp(T, A), None, summary="x")])
    first = push(store, [up(stamp(T + 1, B), 0, summary="y")]).results[0]
    assert first.status == "conflict"
    again = push(store, [up(stamp(T + 1, B), 0, summary="y"), up(stamp(T + 2, A), 2, z=1)])
    dup = again.results[0]
    assert (dup.status, dup.first_status, dup.rev, dup.conflicts) == (
        "duplicate",
        "conflict",
        first.rev,
        first.conflicts,
    )
    assert again.results[1].status == "applied"
    assert [entry.change.hlc for entry in again.writes.changes] == [stamp(T + 2, A)]
    assert dup.to_dict()["conflicts"] == [c.to_dict() for c in first.conflicts]


def test_seen_keys_are_not_loaded():
    store = SpyStore()
    push(store, [up(stamp(T, A), None, "r1", x=1)])
    store.calls.clear()
    push(store, [up(stamp(T, A), None, "r1", x=1), up(stamp(T, A), None, "r2", x=1)])
    assert ("load", ["r2"]) in store.calls


@pytest.mark.parametrize(
    "change, field",
    [
        (Change("r", "upsert", "not-a-stamp", None, {"x": 1}), "hlc"),
        (Change("r", "upsert", None, None, {"x": 1}), "hlc"),
        (Change("r", "patch", stamp(T), None, {"x": 1}), "op"),
        (Change("", "upsert", stamp(T), None, {"x": 1}), "id"),
        (Change(None, "upsert", stamp(T), None, {"x": 1}), "id"),
        (Change("r", "upsert", stamp(T), -1, {"x": 1}), "base_rev"),
        (Change("r", "upsert", stamp(T), True, {"x": 1}), "base_rev"),
        (Change("r", "upsert", stamp(T), "1", {"x": 1}), "base_rev"),
        (Change("r", "upsert", stamp(T), None, ["x"]), "data"),
        (Change("r", "upsert", stamp(T), None, {"_deleted": False}), "_deleted"),
        (Change("r", "upsert", stamp(T), None, {"": 1}), ""),
        (Change("r", "delete", stamp(T), None, {"x": 1}), "data"),
        (Change("r", "delete", stamp(T), None, {}), "_record"),  # no such record
    ],
)
def test_malformed_changes_are_rejected_not_raised(change, field):
    store = MemoryStore()
    out = push(store, [change, up(stamp(T, B), None, "ok", x=1)])
    rejected, applied = out.results
    assert rejected.status == "rejected" and field in rejected.errors
    assert rejected.rev is None and rejected.to_dict()["errors"] == rejected.errors
    assert applied.status == "applied"
    assert list(store.records) == ["ok"]
    # The change log keeps the failure.
    assert [(e.result.status, e.effective_hlc) for e in out.writes.changes] == [
        ("rejected", None),
        ("applied", stamp(T, B)),
    ]


def test_authorize_rejects_with_a_record_error_and_writes_nothing_for_that_change():
    store = MemoryStore()
    push(store, [up(stamp(T, A), None, "theirs", x=1)])

    def authorize(change, existing):
        return "Not your team's record." if change.id == "theirs" else None

    out = push(
        store,
        [up(stamp(T + 1, B), 1, "theirs", x=2), up(stamp(T + 1, B), None, "mine")],
        authorize=authorize,
    )
    assert out.results[0].status == "rejected"
    assert out.results[0].errors == {"_record": ["Not your team's record."]}
    assert out.results[0].rev == 1
    assert store.records["theirs"].fields == {"x": 1}
    assert out.results[1].status == "applied"


def test_authorize_runs_before_validate():
    calls = []
    push(
        MemoryStore(),
        [up(stamp(T, A), None, x=1)],
        authorize=lambda c, e: calls.append("authorize") or "no",
        validate=lambda c, e: calls.append("validate"),
    )
    assert calls == ["authorize"]


def test_validation_errors_reject_the_change():
    out = push(
        MemoryStore(),
        [up(stamp(T, A), None, summary="")],
        validate=lambda c, e: {"summary": ["Shorter than minimum length 1."]},
    )
    assert out.results[0].status == "rejected"
    assert out.results[0].errors == {"summary": ["Shorter than minimum length 1."]}
    assert out.writes.records == []


def test_empty_validation_result_means_valid():
    out = push(MemoryStore(), [up(stamp(T, A), None, x=1)], validate=lambda c, e: {})
    assert out.results[0].status == "applied"


def test_merge_uses_the_corrected_stamp_and_keeps_the_original_as_identity():
    store = MemoryStore()
    fast = stamp(T + 3_600_000, A)  # device clock an hour fast
    out = push(
        store,
        [up(fast, None, summary="x")],
        now_ms=T + 3_600_000 - 3_600_000 + 5,
        skew_ms=3_600_000,
    )
    expected = str(correct(HLC.parse(fast), 3_600_000, T + 5))
    assert expected == stamp(T, A)
    assert out.results[0].hlc == fast
    assert store.records["rec-1"].meta["summary"]["hlc"] == expected
    entry = out.writes.changes[0]
    assert (entry.change.hlc, entry.effective_hlc, entry.skew_ms, entry.received_ms) == (
        fast,
        expected,
        3_600_000,
        T + 5,
    )
    assert store.seen([("rec-1", fast)])["rec-1", fast].status == "applied"


def test_a_fast_clock_cannot_win_every_conflict():
    store = MemoryStore()
    push(store, [up(stamp(T, A), None, summary="x")], now_ms=T + 10)
    # B's clock is a day fast and the skew was not measured: the stamp is capped at server now.
    push(store, [up(stamp(T + 86_400_000, B), 1, summary="b")], now_ms=T + 20)
    out = push(store, [up(stamp(T + 30, C), 1, summary="c")], now_ms=T + 40)
    assert out.results[0].status == "conflict"
    assert store.records["rec-1"].fields["summary"] == "c"


def test_conflicts_are_written_with_rev_and_change_stamp():
    store = MemoryStore()
    push(store, [up(stamp(T, A), None, summary="x")])
    push(store, [up(stamp(T + 1, B), 1, summary="b")])
    out = push(store, [up(stamp(T + 2, C), 1, summary="c")])
    [written] = out.writes.conflicts
    assert (written.record_id, written.rev, written.hlc) == ("rec-1", 3, stamp(T + 2, C))
    assert written.conflict.loser == {"value": "b", "hlc": stamp(T + 1, B)}
    assert out.results[0].conflicts == [written.conflict]
    assert store.conflicts[-1] == written


def test_no_op_change_is_logged_but_writes_no_record():
    store = MemoryStore()
    push(store, [up(stamp(T, A), None, summary="x")])
    out = push(store, [up(stamp(T - 5, B), 1, summary="x")])
    assert (out.results[0].status, out.results[0].rev) == ("applied", 1)
    assert out.writes.records == [] and len(out.writes.changes) == 1


def test_results_are_in_the_writes_for_batch_replay():
    store = MemoryStore()
    out = push(store, [up(stamp(T, A), None, x=1), up(stamp(T, A), None, x=1)])
    assert out.writes.results == out.results
    assert store.responses == [out.results]


def test_stale_save_raises_and_writes_nothing():
    store = MemoryStore()
    push(store, [up(stamp(T, A), None, "r1", x=1)])

    class RacingStore(MemoryStore):
        """Another push commits r1 between our load and our save."""

        def save(self, writes):
            self.records["r1"] = RecordState(
                "r1", 9, {"x": 9}, {"x": {"hlc": stamp(T, C), "rev": 9}}, False
            )
            return super().save(writes)

    racing = RacingStore()
    racing.records = dict(store.records)
    with pytest.raises(StaleWriteError):
        push(racing, [up(stamp(T + 1, B), None, "r0", y=1), up(stamp(T + 1, B), 1, "r1", x=2)])
    assert "r0" not in racing.records and racing.log == []


class NullStore:
    """Knows nothing and keeps nothing: times the engine alone."""

    def seen(self, keys):
        return {}

    def load(self, ids):
        return {}

    def save(self, writes):
        pass


def _timed(changes, repeat=5):
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        apply_batch(
            NullStore(),
            changes,
            now_ms=T + 10**6,
            skew_ms=0,
            validate=lambda c, e: None,
            authorize=lambda c, e: None,
        )
        best = min(best, time.process_time() - started)
    return best


FIELDS = {f"field_{i}": f"value {i}" for i in range(15)}


# Bounds are ~10x what a loaded two-core CI box measures (~10-25 ms): they catch quadratic
# work, not regressions of a few percent.
def test_500_creates_are_fast():
    changes = [up(stamp(T + i, A), None, f"r{i}", **FIELDS) for i in range(500)]
    assert _timed(changes) < 0.25


def test_500_edits_of_one_record_are_fast():
    nodes = [A, B, C]
    changes = [up(stamp(T, A), None, **FIELDS)] + [
        up(stamp(T + i, nodes[i % 3]), i % 7, **{f"field_{i % 15}": i}) for i in range(1, 500)
    ]
    assert _timed(changes) < 0.25


def test_batch_time_grows_linearly():
    def batch(n):
        return [up(stamp(T + i, A), None, f"r{i % 50}", x=i, y=str(i)) for i in range(n)]

    small, large = _timed(batch(500), repeat=3), _timed(batch(2000), repeat=3)
    assert large < small * 10  # linear is 4x; quadratic would be 16x


def test_memory_store_round_trip_of_500_changes_is_fast():
    changes = [up(stamp(T + i, A), None, f"r{i}", **FIELDS) for i in range(500)]
    started = time.process_time()
    push(MemoryStore(), changes)
    assert time.process_time() - started < 0.5


# Idempotence: any batch, applied twice, changes nothing the second time.
changes_strategy = st.lists(
    st.builds(
        lambda rid, ms, node, base, op, data: Change(
            rid, op, str(HLC(T + ms, 0, node)), base, data if op == "upsert" else {}
        ),
        st.sampled_from(["r1", "r2", "r3"]),
        st.integers(0, 20),
        st.sampled_from([A, B, C]),
        st.one_of(st.none(), st.integers(0, 4)),
        st.sampled_from(["upsert", "upsert", "delete"]),
        st.dictionaries(st.sampled_from(["a", "b", "bad"]), st.integers(0, 2), max_size=2),
    ),
    max_size=12,
)


def _reject_bad(change, existing):
    return {"bad": ["Not allowed."]} if "bad" in change.data else None


@settings(max_examples=200, deadline=None)
@given(changes_strategy, changes_strategy)
def test_applying_a_batch_twice_changes_nothing(earlier, batch):
    store = MemoryStore()
    push(store, earlier, validate=_reject_bad)
    first = push(store, batch, validate=_reject_bad)
    records, log, conflicts = dict(store.records), list(store.log), list(store.conflicts)

    second = push(store, batch, validate=_reject_bad)
    assert store.records == records and store.log == log and store.conflicts == conflicts
    assert second.writes.records == [] and second.writes.changes == []
    assert all(r.status == "duplicate" for r in second.results)
    for a, b in zip(first.results, second.results):
        assert (b.id, b.hlc, b.rev, b.errors, b.conflicts) == (
            a.id,
            a.hlc,
            a.rev,
            a.errors,
            a.conflicts,
        )
        assert b.first_status == (a.first_status or a.status)
