"""The personal-data rules against the shared vectors (the app's rules are held to the same)."""

import json
import re
from pathlib import Path

import pytest

from schema.pii import FLAGS, RULES, detect, detect_record

VECTORS = json.loads(
    (Path(__file__).resolve().parents[1] / "vectors" / "pii.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("case", VECTORS, ids=[c["text"][:40] for c in VECTORS])
def test_vector(case):
    assert detect(case["text"]) == case["flags"]


def test_vectors_are_well_formed():
    assert len(VECTORS) >= 30
    for case in VECTORS:
        assert set(case) == {"text", "flags"}
        assert case["flags"] == sorted(set(case["flags"]))
        assert set(case["flags"]) <= set(FLAGS)
    # Every flag has a case raising it and the vectors hold text raising nothing.
    raised = {f for c in VECTORS for f in c["flags"]}
    assert raised == set(FLAGS)
    assert sum(1 for c in VECTORS if not c["flags"]) >= 10


def test_every_rule_is_used_by_some_vector():
    for flag, pattern, insensitive in RULES:
        compiled = re.compile(pattern, re.ASCII | (re.IGNORECASE if insensitive else 0))
        assert any(compiled.search(c["text"]) for c in VECTORS), pattern


def test_detect_record_reports_per_field():
    fields = {"summary": "Spoke to Mr Jones", "place": "Outside 4 Elm Road", "follow_up": None}
    assert detect_record(fields) == {"summary": ["name"]}
