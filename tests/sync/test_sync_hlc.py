import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync import (
    HLC,
    ClockDriftError,
    CounterOverflowError,
    DuplicateNodeError,
    HLCFormatError,
    SyncError,
    correct,
)

T = 1_764_063_000_000
A = "3f2a9c0d4e5b6a7c8d9e0f1a2b3c4d5e"
B = "b7c1d2e3f4a5968778695a4b3c2d1e0f"
DAY = 86_400_000

nodes = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=64)
millis = st.integers(0, 10**15 - 1)
counters = st.integers(0, 99_999)
stamps = st.builds(HLC, millis, counters, nodes)


def test_string_form_is_padded():
    assert str(HLC(T, 7, A)) == f"001764063000000-00007-{A}"
    assert str(HLC(0, 0, "server")) == "000000000000000-00000-server"


def test_parse_round_trip():
    assert HLC.parse(f"001764063000000-00007-{A}") == HLC(T, 7, A)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1764063000000-00000-a",
        "001764063000000-0000-a",
        "001764063000000-00000-",
        "001764063000000-00000-A",
        "001764063000000-00000-a b",
        "001764063000000-00000-a\n",
        "001764063000000-00000-" + "a" * 65,
        "001764063000000-00000-\u0661",
        "00176406300000\u0661-00000-a",
    ],
)
def test_parse_rejects(text):
    with pytest.raises(HLCFormatError):
        HLC.parse(text)


def test_parse_rejects_non_strings():
    with pytest.raises(HLCFormatError):
        HLC.parse(None)


@pytest.mark.parametrize(
    "args",
    [
        (-1, 0, "a"),
        (10**15, 0, "a"),
        (0, -1, "a"),
        (0, 100_000, "a"),
        (0, 0, ""),
        (0, 0, "a" * 65),
        (0, 0, "Server"),
        (True, 0, "a"),
        (1.0, 0, "a"),
        (0, 0, None),
    ],
)
def test_constructor_validates(args):
    with pytest.raises(HLCFormatError):
        HLC(*args)


def test_errors_share_a_base():
    assert issubclass(HLCFormatError, ValueError)
    for error in (HLCFormatError, ClockDriftError, CounterOverflowError, DuplicateNodeError):
        assert issubclass(error, SyncError)


def test_immutable():
    with pytest.raises(AttributeError):
        HLC(T, 0, A).millis = 1  # type: ignore[misc]


def test_send_takes_the_wall_clock_when_it_advances():
    assert HLC(T, 9, A).send(T + 5) == HLC(T + 5, 0, A)


def test_send_counts_within_a_millisecond_and_when_the_clock_goes_back():
    assert HLC(T, 9, A).send(T) == HLC(T, 10, A)
    assert HLC(T, 9, A).send(T - 60_000) == HLC(T, 10, A)


def test_send_overflow():
    with pytest.raises(CounterOverflowError):
        HLC(T, 99_999, A).send(T)


def test_receive_cases():
    assert HLC(T, 5, B).receive(HLC(T + 50, 3, A), T, DAY) == HLC(T + 50, 4, B)
    assert HLC(T + 50, 5, B).receive(HLC(T, 9, A), T, DAY) == HLC(T + 50, 6, B)
    assert HLC(T, 5, B).receive(HLC(T, 9, A), T, DAY) == HLC(T, 10, B)
    assert HLC(T, 12, B).receive(HLC(T, 9, A), T, DAY) == HLC(T, 13, B)
    assert HLC(T, 5, B).receive(HLC(T + 10, 3, A), T + 100, DAY) == HLC(T + 100, 0, B)


def test_receive_drift_limit_is_inclusive():
    assert HLC(T, 0, B).receive(HLC(T + 1000, 0, A), T, 1000) == HLC(T + 1000, 1, B)
    with pytest.raises(ClockDriftError) as info:
        HLC(T, 0, B).receive(HLC(T + 1001, 0, A), T, 1000)
    assert info.value.remote_millis - info.value.now_ms == 1001


def test_receive_refuses_our_own_node():
    with pytest.raises(DuplicateNodeError):
        HLC(T, 0, A).receive(HLC(T - 5, 0, A), T, DAY)


def test_receive_overflow():
    with pytest.raises(CounterOverflowError):
        HLC(T, 1, B).receive(HLC(T, 99_999, A), T, DAY)


@pytest.mark.parametrize(
    "stamp, skew, now, expected",
    [
        (HLC(T - 5000, 2, A), 0, T, HLC(T - 5000, 2, A)),
        (HLC(T + 3_600_000, 0, A), 3_600_000, T + 10, HLC(T, 0, A)),
        (HLC(T - 7_200_000, 4, A), -7_200_000, T + 10, HLC(T, 4, A)),
        (HLC(T + 60_000, 7, A), 0, T, HLC(T, 7, A)),
        (HLC(10, 0, A), 1000, T, HLC(0, 0, A)),
    ],
)
def test_correct(stamp, skew, now, expected):
    assert correct(stamp, skew, now) == expected


@settings(max_examples=200, deadline=None)
@given(stamps, stamps)
def test_string_order_is_tuple_order(a, b):
    assert (str(a) < str(b)) == ((a.millis, a.counter, a.node) < (b.millis, b.counter, b.node))
    assert (str(a) < str(b)) == (a < b)
    assert (str(a) == str(b)) == (a == b)


@settings(max_examples=200, deadline=None)
@given(stamps)
def test_parse_inverts_str(stamp):
    assert HLC.parse(str(stamp)) == stamp
    assert len(str(stamp)) == 22 + len(stamp.node)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**13), st.lists(st.integers(-10_000, 10_000), max_size=30))
def test_send_is_strictly_monotonic(start, deltas):
    clock, now = HLC(start, 0, A), start
    for delta in deltas:
        now = max(0, now + delta)
        later = clock.send(now)
        assert later > clock and str(later) > str(clock)
        assert later.millis >= now
        clock = later


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 10**13),
    st.lists(
        st.tuples(st.integers(-5_000, 5_000), st.integers(-5_000, 5_000), counters), max_size=30
    ),
)
def test_receive_is_after_both_and_monotonic(start, events):
    clock, now = HLC(start, 0, A), start
    for wall_delta, remote_delta, remote_counter in events:
        now = max(0, now + wall_delta)
        remote = HLC(max(0, now + remote_delta), remote_counter, B)
        try:
            later = clock.receive(remote, now, max_drift_ms=1_000)
        except ClockDriftError:
            assert remote.millis - now > 1_000
            continue
        except CounterOverflowError:
            assert max(clock.counter, remote.counter) == 99_999
            continue
        assert later > clock and later > remote and later.millis >= now
        assert later.node == A
        clock = later


@settings(max_examples=200, deadline=None)
@given(stamps, st.integers(-(10**12), 10**12), millis)
def test_correct_never_passes_now_and_keeps_identity(stamp, skew, now):
    corrected = correct(stamp, skew, now)
    assert corrected.millis <= max(now, 0)
    assert (corrected.counter, corrected.node) == (stamp.counter, stamp.node)
    assert corrected.millis == max(0, min(stamp.millis - skew, now))


@settings(max_examples=200, deadline=None)
@given(stamps, stamps, st.integers(-(10**9), 10**9), millis)
def test_correct_preserves_order_unless_capped(a, b, skew, now):
    # With one skew for both, correction never reorders millis. Stamps capped at `now` keep
    # their counters, so two capped stamps may compare in either order: only uncapped pairs
    # keep their full order.
    a, b = min(a, b), max(a, b)
    ca, cb = correct(a, skew, now), correct(b, skew, now)
    assert ca.millis <= cb.millis
    if b.millis - skew <= now and a.millis - skew >= 0:
        assert ca <= cb
