"""Packed field stamps (server.sync.stamps.pack_meta): what is stored gives back what the
engine wrote."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from server.sync.stamps import field_stamps, pack_meta, unpack_meta

stamps = st.builds(
    lambda ms, n, node: f"{ms:015d}-{n:05d}-{node}",
    st.integers(0, 10**15 - 1),
    st.integers(0, 99_999),
    st.sampled_from(["phone-a", "phone-b", "server"]),
)
metas = st.dictionaries(
    st.text(min_size=1, max_size=12),
    st.fixed_dictionaries({"hlc": stamps, "rev": st.integers(1, 50)}),
    max_size=16,
)


@given(metas)
def test_unpack_gives_back_every_fields_stamp_and_rev(meta):
    packed = json.loads(json.dumps(pack_meta(meta)))  # as the JSON column stores it
    assert unpack_meta(packed) == meta
    assert field_stamps(packed) == {name: m["hlc"] for name, m in meta.items()}


@given(metas)
def test_one_entry_per_distinct_stamp(meta):
    distinct = {(m["hlc"], m["rev"]) for m in meta.values()}
    assert len(pack_meta(meta)) == len(distinct)


def test_a_new_record_packs_to_one_entry_a_fifth_the_size():
    names = [
        "contact_org",
        "contact_role",
        "duration_minutes",
        "follow_up",
        "groups",
        "kind",
        "location",
        "occurred_at",
        "people_count",
        "place",
        "public",
        "publicised_at",
        "schema_version",
        "standards",
        "summary",
    ]
    entry = {"hlc": "001764068400000-00042-0f1e2d3c4b5a69788796a5b4c3d2e1f0", "rev": 1}
    meta = dict.fromkeys(names, entry)
    packed = pack_meta(meta)
    assert len(packed) == 1
    assert len(json.dumps(packed)) * 4 < len(json.dumps(meta))


def test_stamps_stored_before_packing_still_read():
    meta = {
        "summary": {"hlc": "001764068400000-00001-phone-a", "rev": 2},
        "kind": {"hlc": "001764068300000-00000-phone-a", "rev": 1},
    }
    assert unpack_meta(meta) == meta
    assert field_stamps(meta) == {
        "summary": "001764068400000-00001-phone-a",
        "kind": "001764068300000-00000-phone-a",
    }
