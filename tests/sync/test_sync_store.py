import pytest
from sync_testkit import T, stamp

from sync import (
    BatchWrites,
    Change,
    ChangeResult,
    LogEntry,
    MemoryStore,
    RecordState,
    RecordWrite,
    StaleWriteError,
    Store,
)


def _state(rev, **fields):
    return RecordState("r", rev, fields, {n: {"hlc": stamp(T), "rev": rev} for n in fields})


def _entry(hlc):
    change = Change("r", "upsert", hlc, None, {"x": 1})
    return LogEntry(change, hlc, ChangeResult("r", hlc, "applied", 1), ["x"], T, 0)


def test_memory_store_implements_the_protocol():
    assert isinstance(MemoryStore(), Store)


def test_save_then_load_and_seen():
    store = MemoryStore()
    store.save(BatchWrites([RecordWrite(_state(1, x=1), None, stamp(T), T)], [_entry(stamp(T))]))
    assert store.load(["r", "missing"]) == {"r": _state(1, x=1)}
    assert store.seen([("r", stamp(T)), ("r", stamp(T + 1))]) == {
        ("r", stamp(T)): ChangeResult("r", stamp(T), "applied", 1)
    }


def test_loaded_and_saved_states_are_copies():
    store = MemoryStore()
    state = _state(1, location={"lat": 1})
    store.save(BatchWrites([RecordWrite(state, None, stamp(T), T)]))
    state.fields["location"]["lat"] = 99
    loaded = store.load(["r"])["r"]
    assert loaded.fields["location"] == {"lat": 1}
    loaded.fields["location"]["lat"] = 42
    loaded.meta["location"]["rev"] = 42
    assert store.load(["r"])["r"] == _state(1, location={"lat": 1})


def test_save_is_all_or_nothing_on_a_stale_record():
    store = MemoryStore()
    store.save(BatchWrites([RecordWrite(_state(1, x=1), None, stamp(T), T)]))
    other = RecordState("s", 1, {}, {}, False)
    stale = BatchWrites(
        [RecordWrite(other, None, stamp(T), T), RecordWrite(_state(2, x=2), 5, stamp(T), T)],
        [_entry(stamp(T + 1))],
    )
    with pytest.raises(StaleWriteError):
        store.save(stale)
    assert list(store.records) == ["r"] and store.log == [] and store.responses == [[]]


def test_creating_an_existing_record_is_stale():
    store = MemoryStore()
    store.save(BatchWrites([RecordWrite(_state(1, x=1), None, stamp(T), T)]))
    with pytest.raises(StaleWriteError):
        store.save(BatchWrites([RecordWrite(_state(1, x=2), None, stamp(T), T)]))


def test_a_change_is_logged_once():
    store = MemoryStore()
    store.save(BatchWrites([], [_entry(stamp(T))]))
    with pytest.raises(StaleWriteError):
        store.save(BatchWrites([], [_entry(stamp(T))]))
    with pytest.raises(StaleWriteError):
        store.save(BatchWrites([], [_entry(stamp(T + 1)), _entry(stamp(T + 1))]))
    assert len(store.log) == 1
