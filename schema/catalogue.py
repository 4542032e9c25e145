"""Standards catalogues: one JSON file per force and version, judged by the date it takes effect.

A force's contract changes from year to year, so a period is judged by the catalogue version in
force when the period starts. Another force drops its own files into a folder and points
BEATBOOK_CATALOGUE_DIR (and BEATBOOK_CATALOGUE) at it; no code changes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

STANDARDS_DIR = Path(__file__).with_name("standards")


@dataclass(frozen=True)
class MeasureType:
    """What a measure type needs from the catalogue and which way its figure is better."""

    higher_is_better: bool
    needs_selection: bool  # must name `kinds` or `standards`
    options: frozenset[str] = frozenset()
    required: frozenset[str] = frozenset()
    refused: frozenset[str] = frozenset()  # common keys that mean nothing to this type


COMMON_KEYS = frozenset({"type", "label", "thresholds", "kinds", "standards", "note"})
MEASURE_SPECS: dict[str, MeasureType] = {
    "count": MeasureType(True, True, frozenset({"per", "per_month"})),
    "distinct_groups": MeasureType(True, False, frozenset({"seldom_heard_only"})),
    "longest_gap_days": MeasureType(False, True),
    "days_since_last": MeasureType(False, True),
    "share_publicised": MeasureType(True, True, frozenset({"min_days"}), frozenset({"min_days"})),
    "share_renewed": MeasureType(
        True,
        True,
        frozenset({"within_days", "lookback_days"}),
        frozenset({"within_days", "lookback_days"}),
    ),
    "mean_people": MeasureType(True, True),
    # The priority loop (docs/standards.md): they read the team's local priorities, so they
    # select no records by kind or standard; `kinds` of share_reviewed_on_time names the
    # records that review a priority (default priority_review).
    "share_fed_back": MeasureType(
        True,
        False,
        frozenset({"within_days"}),
        frozenset({"within_days"}),
        frozenset({"kinds", "standards"}),
    ),
    "share_reviewed_on_time": MeasureType(True, False, refused=frozenset({"standards"})),
}
MEASURE_TYPES = frozenset(MEASURE_SPECS)
LOOP_TYPES = frozenset({"share_fed_back", "share_reviewed_on_time"})
SHARE_TYPES = frozenset({"share_publicised", "share_renewed", *LOOP_TYPES})
RATINGS = ("met", "partly_met", "not_met")


@dataclass(frozen=True)
class AlertRule:
    """What an alert rule needs from the catalogue: its day counts, and the measure of its
    standard that it reads its thresholds from (None: it needs no standard)."""

    measures: frozenset[str] | None
    required: frozenset[str] = frozenset()
    options: frozenset[str] = frozenset()


# Alerts warn before a standard slips (server/alerts/rules.py, docs/standards.md "Alerts").
ALERT_RULES: dict[str, AlertRule] = {
    "officer_gap": AlertRule(frozenset({"count"}), frozenset({"days"})),
    "team_gap": AlertRule(
        frozenset({"longest_gap_days", "days_since_last"}), options=frozenset({"warn_days"})
    ),
    "meeting_not_publicised": AlertRule(
        frozenset({"share_publicised"}), frozenset({"within_days"})
    ),
    "renewal_due": AlertRule(frozenset({"share_renewed"}), frozenset({"within_days"})),
    "month_short": AlertRule(frozenset({"count"}), frozenset({"within_days"})),
    "feedback_due": AlertRule(frozenset({"share_fed_back"}), frozenset({"within_days"})),
    "review_overdue": AlertRule(frozenset({"share_reviewed_on_time"})),
    "phone_silent": AlertRule(None, frozenset({"days"})),
}


class CatalogueError(ValueError):
    """A catalogue file is missing, malformed, or refers to things that do not exist."""


@dataclass(frozen=True)
class Catalogue:
    name: str
    version: str
    effective_from: date
    time_zone: str
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def standards(self) -> list[dict[str, Any]]:
        standards: list[dict[str, Any]] = self.raw["standards"]
        return standards

    @property
    def codes(self) -> list[str]:
        return [s["code"] for s in self.standards]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def returned_records_count(self) -> bool:
        return bool(self.raw.get("returned_records_count", False))

    def standard(self, code: str) -> dict[str, Any]:
        for standard in self.standards:
            if standard["code"] == code:
                return standard
        raise KeyError(code)

    @property
    def alerts(self) -> list[dict[str, Any]]:
        alerts: list[dict[str, Any]] = self.raw.get("alerts", [])
        return alerts

    def alert_measure(self, alert: dict[str, Any]) -> dict[str, Any] | None:
        """The measure of the alert's standard that the rule reads (validated to exist)."""
        wanted = ALERT_RULES[alert["rule"]].measures
        if wanted is None:
            return None
        measures = self.standard(alert["standard"])["measures"]
        found: dict[str, Any] = next(m for m in measures if m["type"] in wanted)
        return found

    def default_standards(self, kind: str) -> list[str]:
        return list(self.raw.get("kind_standards", {}).get(kind, []))

    @property
    def etag(self) -> str:
        body = json.dumps(self.raw, sort_keys=True).encode()
        return hashlib.sha256(body).hexdigest()[:16]


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _validate_measure(
    measure: dict[str, Any], where: str, codes: set[str], kind_codes: Collection[str] | None
) -> None:
    kind = measure.get("type")
    spec = MEASURE_SPECS.get(kind) if isinstance(kind, str) else None
    if spec is None:
        raise CatalogueError(
            f"{where} has unknown measure type {kind!r} (known: {', '.join(sorted(MEASURE_TYPES))})"
        )
    where = f"{where} measure {kind}"
    unknown_keys = set(measure) - COMMON_KEYS - spec.options
    if unknown_keys:
        raise CatalogueError(f"{where}: unknown keys {sorted(unknown_keys)}")
    if set(measure) & spec.refused:
        raise CatalogueError(
            f"{where} takes no {' or '.join(sorted(set(measure) & spec.refused))}: "
            "it reads the team's local priorities"
        )
    if not isinstance(measure.get("label"), str) or not measure["label"].strip():
        raise CatalogueError(f"{where} needs a label")
    for option in sorted(spec.required):
        if not _number(measure.get(option)) or measure[option] < 0:
            raise CatalogueError(f"{where} needs {option} (a number of days, 0 or more)")
    thresholds = measure.get("thresholds") or {}
    if set(thresholds) != {"met", "partly_met"} or not all(map(_number, thresholds.values())):
        raise CatalogueError(f"{where} needs numeric thresholds met and partly_met (and no others)")
    met, partly = thresholds["met"], thresholds["partly_met"]
    if spec.higher_is_better and met < partly:
        raise CatalogueError(f"{where}: higher is better, so met must be >= partly_met")
    if not spec.higher_is_better and met > partly:
        raise CatalogueError(f"{where}: lower is better, so met must be <= partly_met")
    if kind in SHARE_TYPES and not (0 <= partly <= met <= 1):
        raise CatalogueError(f"{where}: shares are fractions between 0 and 1")
    kinds, standards = measure.get("kinds"), measure.get("standards")
    for name, value in (("kinds", kinds), ("standards", standards)):
        if value is not None and (not isinstance(value, list) or not value):
            raise CatalogueError(f"{where}: {name} must be a non-empty list")
    if spec.needs_selection and not (kinds or standards):
        raise CatalogueError(f"{where} must name the records it counts (kinds or standards)")
    if kinds and kind_codes is not None and set(kinds) - set(kind_codes):
        raise CatalogueError(f"{where} names unknown kinds {sorted(set(kinds) - set(kind_codes))}")
    if standards and set(standards) - codes:
        raise CatalogueError(f"{where} names unknown standards {sorted(set(standards) - codes)}")
    if measure.get("per", "team") not in ("team", "officer"):
        raise CatalogueError(f"{where}: per is team or officer")
    for flag in ("per_month", "seldom_heard_only"):
        if flag in measure and not isinstance(measure[flag], bool):
            raise CatalogueError(f"{where}: {flag} is true or false")
    if kind == "share_fed_back" and measure["within_days"] != int(measure["within_days"]):
        raise CatalogueError(f"{where}: within_days is a whole number of days")
    if kind == "share_renewed" and measure["lookback_days"] < measure["within_days"]:
        raise CatalogueError(f"{where}: lookback_days must be at least within_days")


def _validate_alerts(raw: dict[str, Any], source: str) -> None:
    alerts = raw.get("alerts", [])
    if not isinstance(alerts, list):
        raise CatalogueError(f"{source}: alerts must be a list")
    standards = {s["code"]: s for s in raw["standards"]}
    seen: set[tuple[Any, Any]] = set()
    for alert in alerts:
        name = alert.get("rule") if isinstance(alert, dict) else None
        spec = ALERT_RULES.get(name) if isinstance(name, str) else None
        if spec is None:
            known = ", ".join(sorted(ALERT_RULES))
            raise CatalogueError(f"{source}: alert has unknown rule {name!r} (known: {known})")
        where = f"{source}: alert {name}"
        unknown = set(alert) - {"rule", "standard", "note"} - spec.required - spec.options
        if unknown:
            raise CatalogueError(f"{where}: unknown keys {sorted(unknown)}")
        for option in sorted(spec.required | (spec.options & set(alert))):
            value = alert.get(option)
            if not _number(value) or value < 0 or value != int(value):
                raise CatalogueError(f"{where} needs {option} (a whole number of days, 0 or more)")
        code = alert.get("standard")
        if spec.measures is None:
            if code is not None:
                raise CatalogueError(f"{where} takes no standard")
        else:
            if code not in standards:
                raise CatalogueError(f"{where} needs the code of one of the standards")
            types = {m["type"] for m in standards[code]["measures"]}
            if not types & spec.measures:
                raise CatalogueError(
                    f"{where}: standard {code} has no measure of type "
                    f"{' or '.join(sorted(spec.measures))} to take its thresholds from"
                )
        if name == "month_short" and code is not None:
            counts = [m for m in standards[code]["measures"] if m["type"] == "count"]
            if counts and not counts[0].get("per_month"):
                raise CatalogueError(f"{where}: standard {code}'s count is not per month")
        if (name, code) in seen:
            raise CatalogueError(f"{where} is listed twice for {code or 'the force'}")
        seen.add((name, code))


def _validate_grades(grades: object, source: str, count: int) -> None:
    if not isinstance(grades, list) or not grades:
        raise CatalogueError(f"{source}: grades must be a non-empty list")
    for grade in grades:
        if not isinstance(grade.get("grade"), str) or not isinstance(grade.get("title"), str):
            raise CatalogueError(f"{source}: each grade needs a grade code and a title")
        if not all(_number(grade.get(k)) for k in ("min_met", "max_not_met")):
            raise CatalogueError(f"{source}: grade {grade['grade']} needs min_met and max_not_met")
    last = grades[-1]
    # Grades are tried in order; the last must take whatever the others did not.
    if last["min_met"] > 0 or last["max_not_met"] < count:
        raise CatalogueError(
            f"{source}: the last grade ({last['grade']}) must catch every team: min_met 0 and "
            f"max_not_met at least {count}"
        )


def _validate(raw: dict[str, Any], source: str, kind_codes: Collection[str] | None) -> None:
    for key in ("catalogue", "version", "effective_from", "standards", "grades"):
        if key not in raw:
            raise CatalogueError(f"{source}: missing '{key}'")
    if not isinstance(raw["standards"], list) or not raw["standards"]:
        raise CatalogueError(f"{source}: standards must be a non-empty list")
    codes = [s.get("code") for s in raw["standards"]]
    if len(set(codes)) != len(codes) or None in codes:
        raise CatalogueError(f"{source}: standard codes must be present and unique")
    for standard in raw["standards"]:
        if not isinstance(standard.get("title"), str):
            raise CatalogueError(f"{source}: standard {standard['code']} needs a title")
        if not standard.get("measures"):
            raise CatalogueError(f"{source}: standard {standard['code']} has no measures")
        for measure in standard["measures"]:
            _validate_measure(
                measure, f"{source}: standard {standard['code']}", set(codes), kind_codes
            )
    _validate_grades(raw["grades"], source, len(codes))
    _validate_alerts(raw, source)
    for kind, standards in raw.get("kind_standards", {}).items():
        if kind_codes is not None and kind not in kind_codes:
            raise CatalogueError(f"{source}: kind_standards names unknown kind {kind!r}")
        unknown = set(standards) - set(codes)
        if unknown:
            raise CatalogueError(f"{source}: kind {kind} names unknown standards {sorted(unknown)}")
    if not isinstance(raw.get("returned_records_count", False), bool):
        raise CatalogueError(f"{source}: returned_records_count is true or false")
    try:
        ZoneInfo(raw.get("time_zone", "Europe/London"))
    except Exception as exc:  # ZoneInfoNotFoundError or ValueError
        raise CatalogueError(f"{source}: unknown time zone {raw.get('time_zone')!r}") from exc


def parse_catalogue(
    raw: dict[str, Any], source: str = "catalogue", kind_codes: Collection[str] | None = None
) -> Catalogue:
    _validate(raw, source, kind_codes)
    try:
        effective = date.fromisoformat(raw["effective_from"])
    except ValueError as exc:
        raise CatalogueError(f"{source}: effective_from must be YYYY-MM-DD") from exc
    return Catalogue(
        name=raw["catalogue"],
        version=str(raw["version"]),
        effective_from=effective,
        time_zone=raw.get("time_zone", "Europe/London"),
        raw=raw,
    )


class CatalogueSet:
    """Every version of one force's catalogue, ordered by the date each takes effect."""

    def __init__(self, catalogues: list[Catalogue]) -> None:
        if not catalogues:
            raise CatalogueError("no catalogue versions found")
        self.versions = sorted(catalogues, key=lambda c: c.effective_from)

    @property
    def current(self) -> Catalogue:
        return self.for_date(date.today())

    def for_date(self, day: date) -> Catalogue:
        """The version in force on `day`; before the first version there is none."""
        in_force = [c for c in self.versions if c.effective_from <= day]
        if not in_force:
            first = self.versions[0].effective_from
            raise CatalogueError(
                f"no catalogue is in force on {day} (the first takes effect {first})"
            )
        return in_force[-1]


def load_catalogues(
    name: str = "dorset",
    directory: str | Path | None = None,
    kind_codes: Collection[str] | None = None,
) -> CatalogueSet:
    folder = Path(directory or STANDARDS_DIR)
    found: list[Catalogue] = []
    for path in sorted(folder.glob("*.json")):
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise CatalogueError(f"{path.name}: not valid JSON ({exc})") from exc
        if raw.get("catalogue") == name:
            found.append(parse_catalogue(raw, path.name, kind_codes))
    if not found:
        raise CatalogueError(f"no catalogue named {name!r} in {folder}")
    return CatalogueSet(found)
