"""Properties of merge over delivery orders and histories (hypothesis)."""

from __future__ import annotations

import itertools
import json

from hypothesis import given, settings
from hypothesis import strategies as st
from sync_testkit import T, apply, created, delete, stamp, up

from sync import HLC, Change, json_equal, merge

FIELDS = ["a", "b", "c"]
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(0, 3),
    st.sampled_from(["x", "y"]),
    st.lists(st.integers(0, 1), max_size=2),
)
NODES = [f"{i:032x}" for i in range(1, 6)]


def _canon(value):
    return json.dumps(value, sort_keys=True)


# Strategies built once: building them inside a draw costs more than the merges under test.
field_data = st.dictionaries(st.sampled_from(FIELDS), values)
base_deleted = st.booleans()
node_orders = st.permutations(NODES)
offsets = st.integers(1, 50)
counters = st.integers(0, 2)
is_delete = st.integers(0, 3).map(lambda n: n == 0)


@st.composite
def concurrent_sets(draw, min_size=2, max_size=4):
    """A base record and changes from distinct devices that all saw exactly the base."""
    base = created(**draw(field_data))
    if draw(base_deleted):
        base = apply(base, delete(stamp(T, NODES[0], 1), base.rev)).state
    count = draw(st.integers(min_size, max_size))
    changes = []
    # Distinct nodes, and stamps later than the base's: each device saw the base before writing.
    for node in draw(node_orders)[:count]:
        hlc = str(HLC(T + draw(offsets), draw(counters), node))
        if draw(is_delete):
            changes.append(delete(hlc, base.rev))
        else:
            changes.append(up(hlc, base.rev, **draw(field_data)))
    return base, changes


def _deliver(base, order):
    state, conflicts = base, []
    for change in order:
        out = apply(state, change)
        state = out.state
        conflicts.extend(out.conflicts)
    return state, conflicts


def _triples(conflicts):
    return {
        (
            c.field,
            _canon(c.winner["value"]),
            c.winner["hlc"],
            _canon(c.loser["value"]),
            c.loser["hlc"],
        )
        for c in conflicts
    }


def _kept_losers(state, conflicts):
    """(field, value) of losers that differ from the final value: what a supervisor must see."""
    final = dict(state.fields, _deleted=state.deleted)
    return {
        (c.field, _canon(c.loser["value"]))
        for c in conflicts
        if not json_equal(c.loser["value"], final.get(c.field))
    }


@settings(max_examples=200, deadline=None)
@given(concurrent_sets(2, 2))
def test_two_concurrent_changes_converge_exactly(case):
    base, changes = case
    runs = [_deliver(base, order) for order in itertools.permutations(changes)]
    (first_state, first_conflicts), (second_state, second_conflicts) = runs
    assert json_equal(first_state.fields, second_state.fields)
    assert first_state.deleted == second_state.deleted
    assert _triples(first_conflicts) == _triples(second_conflicts)


@settings(max_examples=200, deadline=None)
@given(concurrent_sets(3, 4))
def test_many_concurrent_changes_converge(case):
    # With three or more writers of one field, which pairs meet depends on the order (A<B<C
    # gives B-beats-A then C-beats-B; C,B,A gives C-beats-B then C-beats-A), so pairwise
    # conflicts cannot be identical. What converges: the state, and every value that lost.
    base, changes = case
    runs = [_deliver(base, order) for order in itertools.permutations(changes)]
    state, conflicts = runs[0]
    for other_state, other_conflicts in runs[1:]:
        assert json_equal(other_state.fields, state.fields)
        assert other_state.deleted == state.deleted
        assert _kept_losers(other_state, other_conflicts) == _kept_losers(state, conflicts)


@settings(max_examples=200, deadline=None)
@given(concurrent_sets(2, 4))
def test_every_concurrent_value_is_final_or_in_a_conflict(case):
    base, changes = case
    for order in itertools.permutations(changes):
        state, conflicts = _deliver(base, order)
        kept = {(c.field, _canon(side["value"])) for c in conflicts for side in (c.winner, c.loser)}
        for change in changes:
            for name, value in change.data.items():
                assert json_equal(state.fields[name], value) or (name, _canon(value)) in kept
            if change.op == "delete":
                assert state.deleted


# A history: devices edit, delete and pull (see the current rev) in any interleaving.
steps = st.lists(
    st.one_of(
        st.tuples(st.just("pull"), st.integers(0, 2)),
        st.tuples(st.just("delete"), st.integers(0, 2)),
        st.tuples(
            st.just("edit"),
            st.integers(0, 2),
            st.dictionaries(st.sampled_from(FIELDS), values, min_size=1),
        ),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=200, deadline=None)
@given(steps, st.lists(st.integers(-3, 3), min_size=25, max_size=25))
def test_no_value_is_lost(history, clock_jumps):
    clocks = [HLC(T, 0, node) for node in NODES[:3]]
    seen = [None, None, None]  # rev each device last pulled
    now = T
    state = None
    sent = []  # (index, field, value) of every value written by a change
    overwritten = []  # (index, field, old value) replaced by a write that had seen the old one
    conflicts = []
    for index, (step, jump) in enumerate(zip(history, clock_jumps)):
        device = step[1]
        now += jump  # wall clocks wander; each device's HLC still increases
        if step[0] == "pull":
            seen[device] = state.rev if state else None
            continue
        clocks[device] = clocks[device].send(now)
        hlc = str(clocks[device])
        data = step[2] if step[0] == "edit" else {}
        change = Change("r", step[0].replace("edit", "upsert"), hlc, seen[device], data)
        out = merge(state, change, hlc, state.rev + 1 if state else 1)
        for name, value in data.items():
            sent.append((index, name, value))
            if state and name in state.fields and state.meta[name]["rev"] <= (seen[device] or 0):
                if not json_equal(state.fields[name], out.state.fields[name]):
                    overwritten.append((index, name, _canon(state.fields[name])))
        state = out.state
        conflicts.extend(out.conflicts)
    kept = {(c.field, _canon(side["value"])) for c in conflicts for side in (c.winner, c.loser)}
    for index, name, value in sent:
        final = json_equal(state.fields[name], value)
        in_conflict = (name, _canon(value)) in kept
        # Superseded: a later write replaced this value having seen it (an equal value
        # already stored counts as seen).
        superseded = any(
            o_index > index and o_name == name and o_value == _canon(value)
            for o_index, o_name, o_value in overwritten
        )
        assert final or in_conflict or superseded, (name, value)
