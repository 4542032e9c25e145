"""From figures to ratings and grades, and the words that explain them.

A measure is met / partly met / not met against its thresholds (scaled to the period's length
when the catalogue gives them per month); a standard takes its worst measure; the catalogue's
grades turn a team's ratings into good / requires improvement / inadequate.
"""

from __future__ import annotations

from dataclasses import dataclass

from schema.catalogue import MEASURE_SPECS, SHARE_TYPES, Catalogue
from server.assessment.periods import Period

MET, PARTLY, NOT_MET = "met", "partly_met", "not_met"
ORDER = {MET: 0, PARTLY: 1, NOT_MET: 2}
TITLES = {MET: "Met", PARTLY: "Partly met", NOT_MET: "Not met"}
COLOURS = {MET: "green", PARTLY: "amber", NOT_MET: "red"}


@dataclass(frozen=True)
class Thresholds:
    met: float
    partly_met: float
    higher_is_better: bool
    per_month: tuple[float, float] | None = None  # the catalogue's monthly figures, when scaled


def thresholds(measure: dict, period: Period) -> Thresholds:
    raw = measure["thresholds"]
    higher = MEASURE_SPECS[measure["type"]].higher_is_better
    if measure.get("per_month"):
        months = period.months
        return Thresholds(
            raw["met"] * months, raw["partly_met"] * months, higher, (raw["met"], raw["partly_met"])
        )
    return Thresholds(raw["met"], raw["partly_met"], higher)


def _close(a: float, b: float) -> bool:
    # Scaled thresholds are products of floats: 2 a month for a week is 0.4599...; a figure
    # equal to a threshold up to rounding noise meets it.
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def rate(value: float | None, limits: Thresholds) -> str:
    """A figure against its thresholds; no figure (nothing to measure) is not met."""
    if value is None:
        return NOT_MET
    for rating, limit in ((MET, limits.met), (PARTLY, limits.partly_met)):
        if _close(value, limit):
            return rating
        if (value > limit) if limits.higher_is_better else (value < limit):
            return rating
    return NOT_MET


def worst(ratings: list[str]) -> str:
    return max(ratings, key=ORDER.__getitem__) if ratings else NOT_MET


def change(now: str | None, before: str | None) -> str | None:
    """'better', 'worse', 'same', or None when there is nothing to compare with."""
    if now is None or before is None:
        return None
    if ORDER[now] == ORDER[before]:
        return "same"
    return "better" if ORDER[now] < ORDER[before] else "worse"


def grade(catalogue: Catalogue, ratings: list[str]) -> dict:
    """The first of the catalogue's grades (in order) whose limits the ratings satisfy."""
    met = sum(1 for r in ratings if r == MET)
    not_met = sum(1 for r in ratings if r == NOT_MET)
    for candidate in catalogue.raw["grades"]:
        if met >= candidate["min_met"] and not_met <= candidate["max_not_met"]:
            return {"grade": candidate["grade"], "title": candidate["title"]}
    last = catalogue.raw["grades"][-1]  # validation makes the last grade catch everything
    return {"grade": last["grade"], "title": last["title"]}


def grade_change(catalogue: Catalogue, now: str, before: str | None) -> str | None:
    """Compare grade codes by their position in the catalogue (earlier is better)."""
    order = [g["grade"] for g in catalogue.raw["grades"]]
    if before is None or before not in order or now not in order:
        return None
    if now == before:
        return "same"
    return "better" if order.index(now) < order.index(before) else "worse"


def number(value: float) -> str:
    """1 decimal place at most, no trailing .0: 6, 6.5, 17.3."""
    rounded = round(value, 1)
    return f"{rounded:.0f}" if rounded == int(rounded) else f"{rounded:.1f}"


def days(value: float) -> str:
    """A number of days in words: "1 day", "0.5 days", "12 days"."""
    shown = number(value)
    return f"{shown} day" if shown == "1" else f"{shown} days"


def percent(value: float) -> str:
    return f"{round(value * 100):.0f}%"


def figure_text(measure: dict, value: float | None, numerator=None, denominator=None) -> str:
    """The figure in words short enough for a grid cell."""
    kind = measure["type"]
    if kind in SHARE_TYPES:
        if value is None:
            return {
                "share_publicised": "none held",
                "share_renewed": "no key contacts",
                "share_fed_back": "no priorities due",
                "share_reviewed_on_time": "no reviews due",
            }[kind]
        return f"{percent(value)} ({numerator:g} of {denominator:g})"
    if value is None:
        return {"days_since_last": "never", "mean_people": "none held"}.get(kind, "no officers")
    if kind in ("longest_gap_days", "days_since_last"):
        return f"{number(value)} day{'' if number(value) == '1' else 's'}"
    if kind == "count" and measure.get("per") == "officer":
        return f"{number(value)} per officer"
    if kind == "mean_people":
        return f"{number(value)} people on average"
    if kind == "distinct_groups":
        return f"{number(value)} group{'' if value == 1 else 's'}"
    return number(value)


def threshold_text(measure: dict, limits: Thresholds) -> str:
    """'Met at 6 or more (2 a month); partly met at 3 or more (1 a month).'"""
    kind = measure["type"]
    more, less = "or more", "or fewer"
    direction = more if limits.higher_is_better else less

    def show(value: float) -> str:
        if kind in SHARE_TYPES:
            return percent(value)
        if kind in ("longest_gap_days", "days_since_last"):
            return days(value)
        return number(value)

    parts = []
    for index, (name, value) in enumerate((("Met", limits.met), ("partly met", limits.partly_met))):
        text = f"{name} at {show(value)} {direction}"
        if limits.per_month:
            text += f" ({number(limits.per_month[index])} a month)"
        parts.append(text)
    return "; ".join(parts) + "."
