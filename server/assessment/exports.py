"""The grid as CSV (one row per team: per standard a rating, the figure in words, the change,
then each measure as plain numbers a spreadsheet can sort and total) and as a table for the
terminal."""

from __future__ import annotations

import csv
import io
import re

from server.assessment import ratings
from server.assessment.grid import Assessment

# Per measure type, the unit of its value and, for a ratio, of its numerator and denominator
# (None: the value is the count itself). Shares are fractions 0-1, as in the catalogue.
UNITS: dict[str, tuple[str, tuple[str, str] | None]] = {
    "count": ("records", None),
    "count_per_officer": ("records_per_officer", ("records", "officers")),
    "distinct_groups": ("groups", None),
    "longest_gap_days": ("longest_gap_days", None),
    "days_since_last": ("days_since_last", None),
    "share_publicised": ("share_publicised_fraction", ("meetings_publicised", "meetings_held")),
    "share_renewed": ("share_renewed_fraction", ("key_contacts_renewed", "key_contacts_known")),
    "mean_people": ("mean_people", ("people", "records_with_people")),
    "share_fed_back": ("share_fed_back_fraction", ("priorities_fed_back", "priorities_due")),
    "share_reviewed_on_time": (
        "share_reviewed_on_time_fraction",
        ("priorities_reviewed", "reviews_due"),
    ),
}


def _units(measure: dict) -> tuple[str, tuple[str, str] | None]:
    kind = measure["type"]
    if kind == "count" and measure.get("per") == "officer":
        kind = "count_per_officer"
    return UNITS[kind]


def measure_columns(standard: dict) -> list[str]:
    """The numeric columns of a standard: F2F_records_per_officer, F2F_records, F2F_officers;
    with more than one measure each is numbered (MEET_1_records, MEET_2_share_...)."""
    measures = standard["measures"]
    columns = []
    for number, measure in enumerate(measures, 1):
        prefix = standard["code"] if len(measures) == 1 else f"{standard['code']}_{number}"
        unit, parts = _units(measure)
        columns += [f"{prefix}_{unit}", *(f"{prefix}_{part}" for part in parts or ())]
    return columns


def plain(value: float | None) -> str:
    """A number as a spreadsheet reads it: no units, no exponent, at most 6 decimal places;
    empty when there is no figure (e.g. no meetings held, so no share)."""
    if value is None:
        return ""
    text = f"{round(float(value), 6):.6f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def grid_rows(result: Assessment) -> tuple[list[str], list[list[str]]]:
    codes = result.catalogue.codes
    standards = {s["code"]: s for s in result.catalogue.standards}
    header = ["team", "name", "period", "grade", "previous_grade", "met", "partly_met", "not_met"]
    for code in codes:
        header += [
            f"{code}_rating",
            f"{code}_figure",
            f"{code}_change",
            *measure_columns(standards[code]),
        ]
    rows = []
    for team in result.teams:
        counts = team.counts
        row = [
            team.team.code,
            team.team.name,
            result.period.label,
            team.grade["grade"],
            (team.previous_grade or {}).get("grade", ""),
            str(counts["met"]),
            str(counts["partly_met"]),
            str(counts["not_met"]),
        ]
        for code in codes:
            standard = team.by_code[code]
            row += [standard.rating, standard.headline.text, standard.change or ""]
            for judged in standard.measures:
                figure = judged.figure
                row.append(plain(figure.value))
                if _units(judged.measure)[1]:
                    row += [plain(figure.numerator), plain(figure.denominator)]
        rows.append(row)
    return header, rows


def grid_csv(result: Assessment) -> str:
    header, rows = grid_rows(result)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(_safe(row) for row in rows)
    return out.getvalue()


_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _safe(row: list[str]) -> list[str]:
    # A cell starting with = + - @ (or a tab or carriage return) would run as a formula in a
    # spreadsheet; team names are typed in. A plain number is left alone so it stays a number.
    return [
        f"'{cell}"
        if cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.fullmatch(cell)
        else cell
        for cell in row
    ]


def grid_table(result: Assessment) -> str:
    """A plain-text grid: one line per team, the rating initial and figure per standard."""
    short = {ratings.MET: "G", ratings.PARTLY: "A", ratings.NOT_MET: "R"}
    codes = result.catalogue.codes
    lines = [
        f"{result.period.title} — {result.catalogue.raw.get('title', result.catalogue.name)} "
        f"(version {result.catalogue.version}); G met, A partly met, R not met"
    ]
    for team in result.teams:
        lines.append(
            f"\n{team.team.code}  {team.team.name}: {team.grade['title']}"
            + (f" (was {team.previous_grade['title']})" if team.previous_grade else "")
        )
        for code in codes:
            s = team.by_code[code]
            lines.append(
                f"  {code:<9} {short[s.rating]} {ratings.TITLES[s.rating]:<10} {s.headline.text}"
            )
    return "\n".join(lines) + "\n"
