"""Standards catalogues: the Dorset file, what validation refuses, and version selection."""

from __future__ import annotations

import copy
import json
import re
from datetime import date
from pathlib import Path

import pytest

from schema import load_vocabularies
from schema.catalogue import CatalogueError, CatalogueSet, load_catalogues, parse_catalogue

DORSET = Path(__file__).resolve().parents[2] / "schema" / "standards" / "dorset-2019-04-01.json"
KINDS = load_vocabularies().kind_codes
STABLE_CODES = [
    "F2F",
    "KCL",
    "SOCIAL",
    "WEB",
    "MEET",
    "ALERT",
    "FEEDBACK",
    "PARTNER",
    "SELDOM",
    "PRIORITY",
]


@pytest.fixture
def raw() -> dict:
    return json.loads(DORSET.read_text(encoding="utf-8"))


def test_dorset_loads_with_its_stable_codes():
    dorset = load_catalogues("dorset", kind_codes=KINDS)
    assert dorset.current.codes == STABLE_CODES
    assert dorset.for_date(date(2019, 4, 1)).effective_from == date(2019, 4, 1)
    assert dorset.current.time_zone == "Europe/London"
    assert dorset.current.returned_records_count is False
    assert dorset.current.default_standards("school_visit") == ["F2F", "SELDOM"]


def measure(raw: dict, code: str, index: int = 0) -> dict:
    return next(s for s in raw["standards"] if s["code"] == code)["measures"][index]


BREAKAGES = [
    (lambda r: measure(r, "F2F").update(type="average"), "unknown measure type 'average'"),
    # A type that is not a name is refused as unknown, not a TypeError from the spec lookup.
    (lambda r: measure(r, "F2F").update(type=["count"]), r"unknown measure type \['count'\]"),
    (lambda r: measure(r, "F2F").pop("label"), "needs a label"),
    (lambda r: measure(r, "F2F").update(thresholds={"met": 20}), "thresholds met and partly_met"),
    (
        lambda r: measure(r, "F2F").update(thresholds={"met": 5, "partly_met": 10}),
        "met must be >= partly_met",
    ),
    (
        lambda r: measure(r, "SOCIAL").update(thresholds={"met": 14, "partly_met": 7}),
        "met must be <= partly_met",
    ),
    (
        lambda r: measure(r, "KCL").update(thresholds={"met": 80, "partly_met": 50}),
        "fractions between 0 and 1",
    ),
    (lambda r: measure(r, "ALERT").pop("kinds"), "must name the records it counts"),
    (lambda r: measure(r, "ALERT").update(kinds=["carrier_pigeon"]), "unknown kinds"),
    (lambda r: measure(r, "F2F").update(standards=["NOPE"]), "unknown standards"),
    (lambda r: measure(r, "F2F").update(per="sergeant"), "per is team or officer"),
    (lambda r: measure(r, "SELDOM").update(per_month=True), "unknown keys"),
    (lambda r: measure(r, "MEET", 1).pop("min_days"), "needs min_days"),
    (
        lambda r: measure(r, "KCL").update(lookback_days=30),
        "lookback_days must be at least within_days",
    ),
    (lambda r: measure(r, "SELDOM").update(seldom_heard_only="yes"), "is true or false"),
    (lambda r: r["standards"][0].update(measures=[]), "has no measures"),
    (lambda r: r["standards"][1].update(code="F2F"), "unique"),
    (lambda r: r["grades"][-1].update(max_not_met=3), "must catch every team"),
    (lambda r: r["grades"][0].pop("min_met"), "needs min_met and max_not_met"),
    (lambda r: r.update(returned_records_count="no"), "returned_records_count"),
    (lambda r: r.update(time_zone="Europe/Wessex"), "unknown time zone"),
    (lambda r: r["kind_standards"].update(face_to_face=["NOPE"]), "unknown standards"),
    (lambda r: r.pop("grades"), "missing 'grades'"),
]


@pytest.mark.parametrize("breakage, message", BREAKAGES)
def test_validation_says_what_is_wrong(raw, breakage, message):
    broken = copy.deepcopy(raw)
    breakage(broken)
    with pytest.raises(CatalogueError, match=message):
        parse_catalogue(broken, "dorset.json", KINDS)


def test_versions_are_chosen_by_the_date_they_take_effect(raw):
    later = copy.deepcopy(raw)
    later.update(version="2026-04-01", effective_from="2026-04-01")
    versions = CatalogueSet([parse_catalogue(later, "b", KINDS), parse_catalogue(raw, "a", KINDS)])
    assert versions.for_date(date(2026, 3, 31)).version == "2019-04-01"
    assert versions.for_date(date(2026, 4, 1)).version == "2026-04-01"
    with pytest.raises(CatalogueError, match="no catalogue is in force"):
        versions.for_date(date(2019, 3, 31))


def test_another_folder_and_name_load_without_code_changes(tmp_path, raw):
    other = copy.deepcopy(raw)
    other.update(catalogue="wessex", version="1", effective_from="2024-01-01")
    other["standards"] = [s for s in other["standards"] if s["code"] in ("ALERT", "SOCIAL")]
    other["kind_standards"] = {"community_alert": ["ALERT"]}
    other["alerts"] = [a for a in other["alerts"] if a.get("standard") in (None, "ALERT", "SOCIAL")]
    other["grades"][-1]["max_not_met"] = 2
    (tmp_path / "wessex-1.json").write_text(json.dumps(other), encoding="utf-8")
    (tmp_path / "notes.json").write_text(json.dumps({"catalogue": "elsewhere"}), encoding="utf-8")
    wessex = load_catalogues("wessex", tmp_path, KINDS)
    assert wessex.current.codes == ["SOCIAL", "ALERT"]
    with pytest.raises(CatalogueError, match="no catalogue named 'dorset'"):
        load_catalogues("dorset", tmp_path, KINDS)


DORSET_2027 = DORSET.with_name("dorset-2027-01-01.json")


@pytest.fixture
def raw_2027() -> dict:
    return json.loads(DORSET_2027.read_text(encoding="utf-8"))


def test_dorset_2027_measures_the_priority_loop():
    dorset = load_catalogues("dorset", kind_codes=KINDS)
    old, new = dorset.for_date(date(2026, 12, 31)), dorset.for_date(date(2027, 1, 1))
    assert (old.version, new.version) == ("2019-04-01", "2027-01-01")
    assert new.codes == STABLE_CODES
    assert new.standard("FEEDBACK")["measures"] == [
        {
            "type": "share_fed_back",
            "label": "Priorities with public feedback within 28 days",
            "within_days": 28,
            "thresholds": {"met": 0.8, "partly_met": 0.5},
        }
    ]
    priority = new.standard("PRIORITY")["measures"][0]
    assert (priority["type"], priority["kinds"]) == ("share_reviewed_on_time", ["priority_review"])
    assert priority["thresholds"] == {"met": 0.8, "partly_met": 0.5}
    assert new.default_standards("local_priority") == ["PRIORITY"]
    # Everything else is 2019's.
    others = [s for s in new.standards if s["code"] not in ("FEEDBACK", "PRIORITY")]
    assert others == [s for s in old.standards if s["code"] not in ("FEEDBACK", "PRIORITY")]


LOOP_BREAKAGES = [
    (lambda r: measure(r, "FEEDBACK").pop("within_days"), "needs within_days"),
    (lambda r: measure(r, "FEEDBACK").update(within_days=-1), "needs within_days"),
    (lambda r: measure(r, "FEEDBACK").update(within_days=27.5), "whole number of days"),
    (lambda r: measure(r, "FEEDBACK").update(kinds=["feedback"]), "takes no kinds"),
    (lambda r: measure(r, "PRIORITY").update(standards=["PRIORITY"]), "takes no standards"),
    (lambda r: measure(r, "PRIORITY").update(within_days=28), "unknown keys"),
    (lambda r: measure(r, "PRIORITY").update(kinds=["carrier_pigeon"]), "unknown kinds"),
    (
        lambda r: measure(r, "FEEDBACK").update(thresholds={"met": 80, "partly_met": 50}),
        "fractions between 0 and 1",
    ),
    (
        lambda r: measure(r, "PRIORITY").update(thresholds={"met": 0.5, "partly_met": 0.8}),
        "met must be >= partly_met",
    ),
]


@pytest.mark.parametrize("breakage, message", LOOP_BREAKAGES)
def test_loop_measure_options_are_validated(raw_2027, breakage, message):
    broken = copy.deepcopy(raw_2027)
    breakage(broken)
    with pytest.raises(CatalogueError, match=message):
        parse_catalogue(broken, "dorset-2027-01-01.json", KINDS)


def test_share_reviewed_on_time_needs_no_kinds(raw_2027):
    measure(raw_2027, "PRIORITY").pop("kinds")
    assert parse_catalogue(raw_2027, "x", KINDS).standard("PRIORITY")["measures"][0]


def test_both_dorset_versions_warn_before_their_standards_slip(raw, raw_2027):
    """Every standard but SELDOM has an alert rule; each reads a measure the version has."""
    for version in (raw, raw_2027):
        catalogue = parse_catalogue(version, kind_codes=KINDS)
        watched = {a.get("standard") for a in catalogue.alerts}
        assert watched == set(catalogue.codes) - {"SELDOM"} | {None}
        for alert in catalogue.alerts:
            measure = catalogue.alert_measure(alert)
            assert (measure is None) == (alert["rule"] == "phone_silent")
    rules = {(a["rule"], a.get("standard")) for a in raw_2027["alerts"]}
    assert {("feedback_due", "FEEDBACK"), ("review_overdue", "PRIORITY")} <= rules


@pytest.mark.parametrize(
    "alert, problem",
    [
        ({"rule": "nap_time", "standard": "F2F"}, "unknown rule 'nap_time'"),
        ({"rule": "officer_gap", "standard": "F2F"}, "needs days"),
        ({"rule": "officer_gap", "standard": "F2F", "days": -1}, "needs days"),
        ({"rule": "officer_gap", "standard": "F2F", "days": 2.5}, "whole number"),
        ({"rule": "officer_gap", "days": 14}, "needs the code of one of the standards"),
        ({"rule": "officer_gap", "standard": "NOPE", "days": 14}, "one of the standards"),
        ({"rule": "team_gap", "standard": "F2F"}, "no measure of type days_since_last or"),
        ({"rule": "phone_silent", "standard": "F2F", "days": 3}, "takes no standard"),
        ({"rule": "phone_silent", "days": 3, "colour": "red"}, "unknown keys ['colour']"),
        ({"rule": "month_short", "standard": "F2F", "within_days": 7, "x": 1}, "unknown keys"),
        ({"rule": "month_short", "standard": "F2F", "within_days": 3}, "listed twice for F2F"),
    ],
)
def test_a_bad_alert_rule_is_refused_in_words(raw, alert, problem):
    # Dorset's own list, with the bad one added (month_short F2F is there already).
    raw["alerts"].append(alert)
    with pytest.raises(CatalogueError, match=re.escape(problem)):
        parse_catalogue(raw, kind_codes=KINDS)


def test_month_short_needs_a_count_per_month(raw):
    f2f = next(s for s in raw["standards"] if s["code"] == "F2F")
    f2f["measures"][0].pop("per_month")
    with pytest.raises(CatalogueError, match="count is not per month"):
        parse_catalogue(raw, kind_codes=KINDS)
