"""The record's fields are written once, in schema/records.py; every other list of them is
derived from it or checked against it here, so a new field cannot be half-added."""

from __future__ import annotations

import re
from pathlib import Path

from schema.records import EngagementSchema, field_labels
from server.console.export import COLUMNS
from server.console.record import FIELD_LABELS
from server.db.models import Record
from server.sync.store import RECORD_COLUMNS

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
    assert [name for name, _ in RECORD_COLUMNS] == [n for n in FIELDS if n in Record.__table__.c]


def test_the_export_has_every_field_but_the_app_version():
    for name in FIELDS:
        if name != "schema_version":
            assert set(EXPORTED_AS.get(name, [name])) <= set(COLUMNS), name


def test_the_officers_app_names_every_field():
    text = (ROOT / "pwa" / "js" / "ui" / "labels.js").read_text(encoding="utf-8")
    block = text[text.index("FIELD_LABELS = {") : text.index("};")]
    named = set(re.findall(r"^\s+([a-z_]+):", block, re.M))
    assert set(FIELDS) <= named
