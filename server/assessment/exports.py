"""The grid as CSV (one row per team, a rating and a figure column per standard) and as a table
for the terminal."""

from __future__ import annotations

import csv
import io

from server.assessment import ratings
from server.assessment.grid import Assessment


def grid_rows(result: Assessment) -> tuple[list[str], list[list[str]]]:
    codes = result.catalogue.codes
    header = ["team", "name", "period", "grade", "previous_grade", "met", "partly_met", "not_met"]
    for code in codes:
        header += [f"{code}_rating", f"{code}_figure", f"{code}_change"]
    rows = []
    for team in result.teams:
        counts = team.counts
        row = [team.team.code, team.team.name, result.period.label, team.grade["grade"],
               (team.previous_grade or {}).get("grade", ""),
               str(counts["met"]), str(counts["partly_met"]), str(counts["not_met"])]
        for code in codes:
            standard = team.by_code[code]
            row += [standard.rating, standard.headline.text, standard.change or ""]
        rows.append(row)
    return header, rows


def grid_csv(result: Assessment) -> str:
    header, rows = grid_rows(result)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(_safe(row) for row in rows)
    return out.getvalue()


def _safe(row: list[str]) -> list[str]:
    # A cell starting with = + - @ would run as a formula in a spreadsheet; team names are typed in.
    return [f"'{cell}" if cell[:1] in ("=", "+", "-", "@") else cell for cell in row]


def grid_table(result: Assessment) -> str:
    """A plain-text grid: one line per team, the rating initial and figure per standard."""
    short = {ratings.MET: "G", ratings.PARTLY: "A", ratings.NOT_MET: "R"}
    codes = result.catalogue.codes
    lines = [f"{result.period.title} — {result.catalogue.raw.get('title', result.catalogue.name)} "
             f"(version {result.catalogue.version}); G met, A partly met, R not met"]
    for team in result.teams:
        lines.append(f"\n{team.team.code}  {team.team.name}: {team.grade['title']}"
                     + (f" (was {team.previous_grade['title']})" if team.previous_grade else ""))
        for code in codes:
            s = team.by_code[code]
            lines.append(f"  {code:<9} {short[s.rating]} {ratings.TITLES[s.rating]:<10} {s.headline.text}")
    return "\n".join(lines) + "\n"
