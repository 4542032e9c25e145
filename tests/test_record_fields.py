"""The record's fields are written once, in schema/records.py; every other list of them is
derived from it or checked against it here, so a new field cannot be half-added."""

from __future__ import annotations

import re
from pathlib import Path

from schema.records import EngagementSchema, field_labels
from server.console.export import COLUMNS
from server.console.record import FIELD_LABELS
from server.db.models import Record
from server.sync.store import RECORD_COLUMNS, record_columns

ROOT = Path(__file__).resolve().parents[1]
FIELDS = list(EngagementSchema._declared_fields)
# How the CSV export spells fields that are not one column each.
EXPORTED_AS = {
    "occurred_at": ["occurred_at_utc"],
    "location": ["latitude", "longitude", "accuracy_m"],
}


def test_every_field_has_a_label_in_the_schema():
    assert list(field_labels()) == FIELDS and all(field_labels().values())


def test_the_console_names_every_field_as_the_schema_does():
    assert {name: FIELD_LABELS[name] for name in FIELDS} == field_labels()


def test_every_column_a_field_has_is_kept_from_it():
    # What 1.0.0's hand-written record_columns gave, for a full record and a sparse one.
    from datetime import datetime

    full = {
        "occurred_at": "2025-11-25T10:00:00+01:00",
        "kind": "face_to_face",
        "place": "Quay",
        "duration_minutes": 15,
        "people_count": 3,
        "summary": "Spoke",
        "follow_up": None,
        "publicised_at": "2025-11-20T09:00:00+00:00",
        "contact_role": "Warden",
        "contact_org": None,
        "public": True,
        "standards": ["F2F"],
    }
    assert record_columns(full) == {
        "occurred_at": datetime(2025, 11, 25, 9, 0),
        "kind": "face_to_face",
        "place": "Quay",
        "duration_minutes": 15,
        "people_count": 3,
        "summary": "Spoke",
        "follow_up": "",
        "publicised_at": datetime(2025, 11, 20, 9, 0),
        "contact_role": "Warden",
        "contact_org": "",
        "public": True,
        "pii_confirmed": False,  # added in 1.2.0 (issue 13)
    }
    assert record_columns({}) == {
        "occurred_at": None,
        "kind": "",
        "place": "",
        "duration_minutes": None,
        "people_count": None,
        "summary": "",
        "follow_up": "",
        "publicised_at": None,
        "contact_role": "",
        "contact_org": "",
        "public": False,
        "pii_confirmed": False,
    }
    assert {name for name, _ in RECORD_COLUMNS} <= set(Record.__table__.c.keys())


def test_the_export_has_every_field_but_the_app_version():
    for name in FIELDS:
        if name != "schema_version":
            assert set(EXPORTED_AS.get(name, [name])) <= set(COLUMNS), name


def test_the_officers_app_names_every_field():
    text = (ROOT / "pwa" / "js" / "ui" / "labels.js").read_text(encoding="utf-8")
    block = text[text.index("FIELD_LABELS = {") : text.index("};")]
    named = set(re.findall(r"^\s+([a-z_]+):", block, re.M))
    assert set(FIELDS) <= named
