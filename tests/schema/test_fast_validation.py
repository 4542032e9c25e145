"""The validation fast path (schema/fast.py) decides exactly as marshmallow does, or not at all.

Whenever the fast path returns data, marshmallow accepts the same input and returns the same
data: same keys in the same order, same values of the same types (compared by repr, so 1 and
1.0 or True and 1 differ). Whatever it cannot decide goes to marshmallow, so loading through it
(`load_partial`, the envelope check) gives marshmallow's answer, errors included, for any input.
"""

from __future__ import annotations

import random
import string
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from schema import load_catalogues, load_vocabularies
from schema.fast import Unsure, compile_loader
from schema.records import TEXT_MAX, EngagementSchema
from schema.wire import ChangeSchema
from server.demo import WEIGHTS, _record
from server.sync.push import _envelope_errors

VOCABULARIES = load_vocabularies()
CATALOGUES = load_catalogues()
STANDARDS = sorted({code for version in CATALOGUES.versions for code in version.codes})
KINDS = sorted(VOCABULARIES.kind_codes)
GROUPS = sorted(VOCABULARIES.group_codes)
NOW = datetime.now(timezone.utc).replace(microsecond=0)
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def make_schema() -> EngagementSchema:
    return EngagementSchema(vocabularies=VOCABULARIES, standard_codes=STANDARDS, now=NOW)


def outcome(load, data) -> tuple[str, object]:
    try:
        return "ok", repr(load(data))
    except ValidationError as exc:
        return "error", exc.messages


# --- values: mostly plausible, often at or past a limit, sometimes of the wrong type ---------

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
offsets = st.builds(
    lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-23 * 60 - 59, 23 * 60 + 59)
)
moments = st.datetimes(min_value=datetime(1999, 12, 31), max_value=datetime(2100, 1, 1))


@st.composite
def iso_times(draw) -> object:
    """ISO text in the forms phones send, and the near misses they might."""
    when = draw(moments)
    form = draw(
        st.sampled_from(
            ["aware", "aware", "utc_z", "naive", "date", "space", "recent", "extreme", "junk"]
        )
    )
    if form == "recent":
        return (NOW - timedelta(minutes=draw(st.integers(-30, 60 * 24 * 400)))).isoformat()
    if form == "aware":
        return when.replace(tzinfo=draw(offsets)).isoformat()
    if form == "utc_z":
        return when.isoformat() + "Z"
    if form == "naive":
        return when.isoformat()
    if form == "date":
        return when.date().isoformat()
    if form == "space":
        return when.replace(tzinfo=timezone.utc).isoformat(sep=" ")
    if form == "extreme":  # no UTC time exists for these
        return draw(st.sampled_from(["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]))
    return draw(junk)


def text(limit: int) -> st.SearchStrategy:
    return st.one_of(
        st.text(max_size=12),
        st.just(""),
        st.just("x" * limit),
        st.just("x" * (limit + 1)),
        st.binary(max_size=3),
        junk,
    )


def ints(low: int, high: int) -> st.SearchStrategy:
    return st.one_of(
        st.integers(low - 2, high + 2),
        st.sampled_from([low, high]),
        st.builds(float, st.integers(low, high)),
        st.builds(str, st.integers(0, 9)),
        st.booleans(),
        st.none(),
        junk,
    )


def codes(known: list[str], most: int) -> st.SearchStrategy:
    return st.one_of(
        st.lists(st.sampled_from(known), max_size=4),
        st.lists(st.sampled_from(known), min_size=most, max_size=most + 1),
        st.lists(st.one_of(st.sampled_from(known), st.text(max_size=4)), max_size=3),
        st.lists(junk, max_size=2),
        st.tuples(st.sampled_from(known)),
        junk,
    )


def number(low: float, high: float) -> st.SearchStrategy:
    return st.one_of(
        st.floats(low - 1, high + 1),
        st.integers(int(low) - 1, int(high) + 1),
        st.sampled_from([low, high, float("nan"), float("inf")]),
        st.builds(str, st.floats(low, high)),
        st.booleans(),
        st.integers(10**300, 10**310),
    )


locations = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "lat": number(-90, 90),
            "lon": number(-180, 180),
            "accuracy_m": st.one_of(st.none(), number(0, 100_000)),
            "altitude": junk,
        },
    ),
    junk,
)

FIELDS = {
    "schema_version": st.one_of(st.sampled_from([1, 2, 2, 3, 0, True, "2", 2.0]), junk),
    "occurred_at": iso_times(),
    "kind": st.one_of(st.sampled_from(KINDS), st.text(max_size=8), junk),
    "standards": codes(STANDARDS, 20),
    "place": text(200),
    "location": locations,
    "duration_minutes": ints(0, 1440),
    "people_count": ints(0, 100_000),
    "groups": codes(GROUPS, 30),
    "summary": text(TEXT_MAX),
    "follow_up": text(TEXT_MAX),
    "publicised_at": st.one_of(st.none(), iso_times()),
    "contact_role": text(120),
    "contact_org": text(120),
    "public": st.one_of(st.booleans(), st.sampled_from([0, 1, 1.0, "true", None]), junk),
    # version 1 names, an unknown field, a server-owned one
    "people": ints(0, 100_000),
    "notes": text(TEXT_MAX),
    "officer": junk,
    "extra": junk,
}
OLD_OR_UNKNOWN = ("people", "notes", "officer", "extra")


@st.composite
def record_data(draw) -> dict:
    """A change's data: usually well-formed except here and there, sometimes anything."""
    keys = draw(st.sets(st.sampled_from(sorted(FIELDS)), max_size=len(FIELDS)))
    if draw(st.integers(0, 3)):  # mostly only the fields a phone of today sends
        keys -= set(OLD_OR_UNKNOWN)
    # in any order: marshmallow's output follows the schema's order, whatever the input's
    return {name: draw(FIELDS[name]) for name in draw(st.permutations(sorted(keys)))}


recent = st.builds(
    lambda minutes, tz: (NOW - timedelta(minutes=minutes)).astimezone(tz).isoformat(),
    st.integers(0, 60 * 24 * 400),
    offsets,
)
VALID = {
    "schema_version": st.just(2),
    "occurred_at": recent,
    "kind": st.sampled_from(KINDS),
    "standards": st.lists(st.sampled_from(STANDARDS), max_size=20),
    "place": st.text(max_size=200),
    "location": st.one_of(
        st.none(),
        st.fixed_dictionaries(
            {
                "lat": st.floats(-90, 90),
                "lon": st.one_of(st.floats(-180, 180), st.integers(-180, 180)),
                "accuracy_m": st.one_of(st.none(), st.floats(0, 100_000), st.integers(0, 100_000)),
            }
        ),
    ),
    "duration_minutes": st.one_of(st.none(), st.integers(0, 1440)),
    "people_count": st.one_of(st.none(), st.integers(0, 100_000)),
    "groups": st.lists(st.sampled_from(GROUPS), max_size=30),
    "summary": st.text(min_size=1, max_size=40),
    "follow_up": st.text(max_size=40),
    "publicised_at": st.one_of(st.none(), recent),
    "contact_role": st.text(max_size=120),
    "contact_org": st.text(max_size=120),
    "public": st.booleans(),
}


@st.composite
def near_valid_data(draw) -> dict:
    """A valid record, or part of one, with at most two fields swapped for anything."""
    data = draw(st.fixed_dictionaries({}, optional=VALID))
    for name in draw(st.lists(st.sampled_from(sorted(FIELDS)), max_size=2)):
        data[name] = draw(FIELDS[name])
    return data


# --- the properties --------------------------------------------------------------------------


@SETTINGS
@given(st.one_of(record_data(), near_valid_data()))
def test_record_fast_path_is_marshmallow_where_it_decides(data):
    schema = make_schema()
    expected = outcome(lambda d: schema.load(d, partial=schema.edit_fields), data)
    try:
        fast = schema._load_fast(data)
    except Unsure:
        event("fast path: unsure")
    else:
        event("fast path: decided")
        assert ("ok", repr(fast)) == expected
    assert outcome(schema.load_partial, data) == expected


def valid_records(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    catalogue = CATALOGUES.current
    kinds, weights = zip(*WEIGHTS.items())
    out = []
    for _ in range(count):
        when = NOW - timedelta(minutes=rng.randint(0, 60 * 24 * 365))
        if rng.random() < 0.3:
            when = when.astimezone(timezone(timedelta(hours=rng.choice([1, -5, 5.5]))))
        out.append(_record(rng, rng.choices(kinds, weights)[0], when, catalogue, GROUPS))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fast_path_takes_what_phones_send(seed):
    """Realistic records, whole or as the partial edits a phone sends, never fall back."""
    schema = make_schema()
    rng = random.Random(seed)
    for data in valid_records(200, seed):
        partial = {k: v for k, v in data.items() if rng.random() < 0.4}
        for sample in (data, partial):
            fast = schema._load_fast(sample)  # raises Unsure if it would fall back
            assert repr(fast) == repr(schema.load(sample, partial=schema.edit_fields))


def test_fast_path_upgrades_version_one_like_marshmallow():
    schema = make_schema()
    data = {"schema_version": 1, "people": 4, "notes": "Revisit.", "summary": "Spoke."}
    assert repr(schema._load_fast(data)) == repr(schema.load(data, partial=schema.edit_fields))
    assert schema._load_fast(data) == {
        "schema_version": 2,
        "people_count": 4,
        "summary": "Spoke.",
        "follow_up": "Revisit.",
    }


def test_a_time_with_no_utc_equivalent_is_a_field_error_not_a_crash():
    with pytest.raises(ValidationError) as raised:
        make_schema().load_partial({"occurred_at": "0001-01-01T00:00:00+01:00"})
    assert raised.value.messages == {"occurred_at": ["Not a valid datetime."]}


hex32 = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)
envelopes = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(
            st.uuids().map(str),
            st.uuids().map(lambda u: f"{u}\n"),
            st.text(alphabet=string.hexdigits + "-", max_size=40),
            junk,
        ),
        "op": st.one_of(st.sampled_from(["upsert", "delete", "UPSERT", "review"]), junk),
        "hlc": st.one_of(
            st.builds(
                lambda m, c, n: f"{m:015d}-{c:05d}-{n}",
                st.integers(0, 10**15 - 1),
                st.integers(0, 99_999),
                hex32,
            ),
            st.text(min_size=20, max_size=95),
            junk,
        ),
        "base_rev": st.one_of(st.none(), st.integers(-2, 10**6), st.booleans(), st.floats(), junk),
        "data": st.one_of(st.dictionaries(st.text(max_size=5), junk, max_size=3), junk),
        "extra": junk,
    },
)


@SETTINGS
@given(envelopes)
def test_envelope_check_is_marshmallow(raw):
    assert _envelope_errors(raw) == ChangeSchema().validate(raw)


def test_compiling_refuses_what_it_cannot_replicate():
    class WithEmail(Schema):
        contact = fields.Email()

    class WithUrlCheck(Schema):
        link = fields.String(validate=validate.URL())

    class WithHook(Schema):
        name = fields.String()

        @validates_schema
        def _check(self, data, **kwargs):
            pass

    for schema in (WithEmail(), WithUrlCheck(), WithHook()):
        with pytest.raises(TypeError):
            compile_loader(schema, partial=True)
    compile_loader(WithHook(), partial=True, replicated_hooks={"_check"})
