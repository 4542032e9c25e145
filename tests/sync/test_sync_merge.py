import copy

import pytest
from sync_testkit import REC, A, B, C, T, apply, created, delete, stamp, up

from sync import Change, Conflict, RecordState, json_equal, merge


def test_create_writes_every_field_at_new_rev():
    out = merge(None, up(stamp(T), None, summary="Patrol", people_count=3), stamp(T, B), 1)
    assert out.status == "applied" and out.conflicts == []
    assert out.state == RecordState(
        REC,
        1,
        {"summary": "Patrol", "people_count": 3},
        {"summary": {"hlc": stamp(T, B), "rev": 1}, "people_count": {"hlc": stamp(T, B), "rev": 1}},
        False,
    )
    assert out.changed_fields == ["people_count", "summary"]


def test_merge_never_mutates_its_inputs():
    state = created(summary="Patrol", location={"lat": 1, "lon": 2})
    change = up(stamp(T + 5, B), 0, summary="Other", location={"lat": 3, "lon": 4})
    before_state, before_change = copy.deepcopy(state), copy.deepcopy(change)
    out = apply(state, change)
    assert out.status == "conflict"
    assert state == before_state and change == before_change
    out.state.fields["summary"] = "mutated"
    out.state.meta["summary"]["rev"] = 99
    assert state == before_state


def test_sequential_write_wins_even_with_an_older_stamp_and_keeps_the_later_stamp():
    state = created(summary="Patrol")
    out = apply(state, up(stamp(T - 60_000, B), 1, summary="Patrol, High St"))
    assert out.status == "applied"
    assert out.state.fields["summary"] == "Patrol, High St"
    assert out.state.meta["summary"] == {"hlc": stamp(T), "rev": 2}


def test_sequential_write_with_a_later_stamp_takes_that_stamp():
    out = apply(created(summary="Patrol"), up(stamp(T + 1, B), 1, summary="New"))
    assert out.state.meta["summary"] == {"hlc": stamp(T + 1, B), "rev": 2}


def test_no_op_upsert_keeps_the_rev_and_reports_no_changed_fields():
    state = created(summary="Patrol")
    out = apply(state, up(stamp(T - 1, B), 1, summary="Patrol"))
    assert (out.status, out.changed_fields, out.conflicts) == ("applied", [], [])
    assert out.state == state and not out.changed


def test_equal_value_with_a_later_stamp_advances_stamp_and_rev():
    out = apply(created(summary="Patrol"), up(stamp(T + 9, B), 1, summary="Patrol"))
    assert out.changed_fields == ["summary"] and out.state.rev == 2
    assert out.state.meta["summary"] == {"hlc": stamp(T + 9, B), "rev": 2}


def test_new_rev_is_taken_as_proposed():
    out = merge(created(summary="x"), up(stamp(T + 1, B), 1, summary="y"), stamp(T + 1, B), 42)
    assert out.state.rev == 42 and out.state.meta["summary"]["rev"] == 42


def test_concurrency_is_meta_rev_above_base_rev():
    state = apply(
        created(summary="Patrol", place="Co-op"), up(stamp(T + 10, B), 1, summary="B's")
    ).state  # summary at rev 2
    # base_rev 2 saw B's write: sequential, wins despite the older stamp.
    seen = apply(state, up(stamp(T + 5, C), 2, summary="C's"))
    assert (seen.status, seen.state.fields["summary"]) == ("applied", "C's")
    # base_rev 1 did not: concurrent, B's later stamp wins, C's value kept as loser.
    unseen = apply(state, up(stamp(T + 5, C), 1, summary="C's"))
    assert unseen.status == "conflict" and unseen.state.fields["summary"] == "B's"
    assert unseen.conflicts == [
        Conflict(
            "summary",
            {"value": "B's", "hlc": stamp(T + 10, B)},
            {"value": "C's", "hlc": stamp(T + 5, C)},
        )
    ]
    # base_rev None counts as 0: everything stored is unseen.
    assert apply(state, up(stamp(T + 5, C), None, place="Library")).status == "conflict"


def test_concurrent_later_stamp_wins_and_loser_is_kept():
    state = apply(created(summary="Patrol"), up(stamp(T + 10, B), 1, summary="B's")).state
    out = apply(state, up(stamp(T + 20, C), 1, summary="C's"))
    assert out.status == "conflict" and out.state.fields["summary"] == "C's"
    assert out.state.meta["summary"] == {"hlc": stamp(T + 20, C), "rev": 3}
    assert out.conflicts == [
        Conflict(
            "summary",
            {"value": "C's", "hlc": stamp(T + 20, C)},
            {"value": "B's", "hlc": stamp(T + 10, B)},
        )
    ]


def test_losing_concurrent_write_changes_no_field_but_bumps_the_rev_for_its_conflict():
    state = apply(created(summary="Patrol"), up(stamp(T + 10, B), 1, summary="B's")).state
    out = apply(state, up(stamp(T + 5, C), 1, summary="C's"))
    assert out.changed_fields == [] and out.state.rev == 3
    assert out.state.fields == state.fields and out.state.meta == state.meta


def test_concurrent_edits_of_different_fields_merge():
    state = apply(
        created(summary="Patrol", place="Co-op"), up(stamp(T + 10, B), 1, summary="B's")
    ).state
    out = apply(state, up(stamp(T + 5, C), 1, place="Library"))
    assert out.status == "merged" and out.conflicts == []
    assert out.state.fields == {"summary": "B's", "place": "Library"}


def test_concurrent_equal_values_are_not_a_conflict():
    state = apply(created(summary="Patrol"), up(stamp(T + 10, B), 1, summary="Same")).state
    later = apply(state, up(stamp(T + 20, C), 1, summary="Same"))
    assert later.status == "merged" and later.conflicts == []
    assert later.state.meta["summary"]["hlc"] == stamp(T + 20, C)
    earlier = apply(state, up(stamp(T + 5, C), 1, summary="Same"))
    assert (earlier.status, earlier.changed_fields, earlier.state) == ("merged", [], state)


def test_conflicts_are_sorted_by_field():
    state = apply(created(b="1", a="1", c="1"), up(stamp(T + 10, B), 1, b="2", a="2", c="2")).state
    out = apply(state, up(stamp(T + 5, C), 1, c="3", a="3", b="3"))
    assert [c.field for c in out.conflicts] == ["a", "b", "c"]


@pytest.mark.parametrize(
    "a, b, equal",
    [
        (1, 1.0, True),
        (True, 1, False),
        (0, False, False),
        (None, None, True),
        ({"x": [1, {"y": None}]}, {"x": [1.0, {"y": None}]}, True),
        ([1, 2], [2, 1], False),
        ({"x": 1}, {"x": 1, "y": None}, False),
        ("a", "a", True),
        ([], {}, False),
    ],
)
def test_json_equal(a, b, equal):
    assert json_equal(a, b) is equal and json_equal(b, a) is equal


def test_bool_and_number_differ_in_merge():
    out = apply(created(public=1), up(stamp(T - 1, B), 1, public=True))
    assert out.changed_fields == ["public"] and out.state.fields["public"] is True


def test_delete_is_a_tombstone_that_keeps_fields():
    state = created(summary="Patrol")
    out = apply(state, delete(stamp(T + 1, B), 1))
    assert out.status == "applied" and out.state.deleted
    assert out.state.fields == {"summary": "Patrol"}
    assert out.state.meta["_deleted"] == {"hlc": stamp(T + 1, B), "rev": 2}
    assert out.changed_fields == ["_deleted"]


def test_delete_of_a_missing_record_makes_an_empty_tombstone():
    out = merge(None, delete(stamp(T), None), stamp(T), 1)
    assert out.state == RecordState(REC, 1, {}, {"_deleted": {"hlc": stamp(T), "rev": 1}}, True)


@pytest.mark.parametrize("delete_ms", [T + 5, T + 50])
def test_delete_concurrent_with_unseen_edit_conflicts_and_stays_deleted(delete_ms):
    state = apply(created(summary="Patrol"), up(stamp(T + 10, B), 1, summary="B's")).state
    out = apply(state, delete(stamp(delete_ms, C), 1))
    assert out.status == "conflict" and out.state.deleted
    assert out.state.fields["summary"] == "B's"
    assert out.conflicts == [
        Conflict(
            "_deleted",
            {"value": True, "hlc": stamp(delete_ms, C)},
            {"value": False, "hlc": stamp(T + 10, B)},
        )
    ]


def test_redelete_never_conflicts_but_always_writes_the_tombstone():
    tomb = apply(created(summary="x"), delete(stamp(T + 10, B), 1)).state
    again = apply(tomb, delete(stamp(T + 5, C), 1))
    assert (again.status, again.conflicts, again.changed_fields) == ("merged", [], ["_deleted"])
    assert again.state.meta["_deleted"] == {"hlc": stamp(T + 10, B), "rev": 3}
    later = apply(tomb, delete(stamp(T + 20, C), 2))
    assert later.status == "applied"
    assert later.state.meta["_deleted"] == {"hlc": stamp(T + 20, C), "rev": 3}


def test_restore_concurrent_with_a_redelete_stays_deleted():
    tomb = apply(created(summary="x"), delete(stamp(T + 10, B), 1)).state
    redeleted = apply(tomb, delete(stamp(T + 5, C), 2)).state  # older stamp, still a write
    out = apply(redeleted, up(stamp(T + 30, A), 2, summary="Back"))
    assert out.state.deleted and out.status == "conflict"


def test_upsert_having_seen_the_delete_restores():
    tomb = apply(created(summary="x"), delete(stamp(T + 10, B), 1)).state
    out = apply(tomb, up(stamp(T + 20, C), 2, summary="Back"))
    assert out.status == "applied" and not out.state.deleted
    assert out.state.fields["summary"] == "Back"
    assert out.state.meta["_deleted"] == {"hlc": stamp(T + 20, C), "rev": 3}
    assert sorted(out.changed_fields) == ["_deleted", "summary"]


def test_upsert_concurrent_with_delete_merges_into_tombstone_with_conflict():
    tomb = apply(created(summary="x"), delete(stamp(T + 10, B), 1)).state
    out = apply(tomb, up(stamp(T + 20, C), 1, summary="Offline edit"))
    assert out.status == "conflict" and out.state.deleted
    assert out.state.fields["summary"] == "Offline edit"  # kept, not lost
    assert out.conflicts == [
        Conflict(
            "_deleted",
            {"value": True, "hlc": stamp(T + 10, B)},
            {"value": False, "hlc": stamp(T + 20, C)},
        )
    ]


def test_empty_upsert_restores_only_when_the_delete_was_seen():
    tomb = apply(created(summary="x"), delete(stamp(T + 10, B), 1)).state
    assert not apply(tomb, up(stamp(T + 20, C), 2)).state.deleted
    unseen = apply(tomb, up(stamp(T + 20, C), 1))
    assert (unseen.status, unseen.conflicts, unseen.state) == ("merged", [], tomb)


def test_delete_after_an_unseen_empty_restore_does_not_conflict():
    tomb = apply(created(summary="x"), delete(stamp(T + 10, B), 1)).state
    restored = apply(tomb, up(stamp(T + 20, C), 2)).state
    out = apply(restored, delete(stamp(T + 30, A), 2))
    assert (out.status, out.conflicts, out.state.deleted) == ("merged", [], True)


def test_delete_concurrent_with_an_unseen_restore_conflicts():
    tomb = apply(created(summary="x"), delete(stamp(T + 10, B), 1)).state
    restored = apply(tomb, up(stamp(T + 20, C), 2, summary="Back")).state
    out = apply(restored, delete(stamp(T + 30, A), 2))
    assert out.status == "conflict" and out.state.deleted
    assert out.conflicts[0].loser == {"value": False, "hlc": stamp(T + 20, C)}


def test_unknown_op_is_a_programming_error():
    with pytest.raises(ValueError):
        merge(None, Change(REC, "patch", stamp(T), None, {}), stamp(T), 1)
