"""Assessment periods: ISO weeks, calendar months, quarters and years in the force's time zone.

A period is a half-open range of local days [start, end). Its edges are local midnights turned
into naive UTC (the database's clock), so a contact at 00:30 BST on 1 April (23:30 UTC on 31
March) belongs to April. Labels: 2026 (year), 2026-Q3 (quarter), 2026-07 (month), 2026-W27 (ISO
week).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

KINDS = ("week", "month", "quarter", "year")
_PATTERNS = (
    ("week", re.compile(r"^(\d{4})-W(\d{2})$")),
    ("quarter", re.compile(r"^(\d{4})-Q([1-4])$")),
    ("month", re.compile(r"^(\d{4})-(\d{2})$")),
    ("year", re.compile(r"^(\d{4})$")),
)
# A calendar month's share of a year, so a monthly threshold scales to any period.
DAYS_PER_MONTH = 365.2425 / 12


class PeriodError(ValueError):
    """A period label that is malformed or names no real period."""


def local_midnight_utc(day: date, tz: ZoneInfo) -> datetime:
    """The naive UTC instant of local midnight starting `day` (midnight is never ambiguous in
    Europe/London; for zones where it is, fold=0 takes the first)."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(timezone.utc).replace(tzinfo=None)


def to_local(moment: datetime, tz: ZoneInfo) -> datetime:
    """A naive UTC database time as an aware local time."""
    return moment.replace(tzinfo=timezone.utc).astimezone(tz)


@dataclass(frozen=True)
class Period:
    kind: str
    start: date  # first local day
    end: date  # the local day after the last
    tz: ZoneInfo

    @property
    def label(self) -> str:
        if self.kind == "year":
            return f"{self.start.year}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "month":
            return f"{self.start.year}-{self.start.month:02d}"
        year, week, _ = self.start.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def title(self) -> str:
        """A human name: 'July 2026', 'Q3 2026 (Jul-Sep)', 'Week 27 2026 (29 Jun-5 Jul)'."""
        last = self.end - timedelta(days=1)
        if self.kind == "year":
            return self.label
        if self.kind == "quarter":
            return (
                f"Q{(self.start.month - 1) // 3 + 1} {self.start.year} ({self.start:%b}-{last:%b})"
            )
        if self.kind == "month":
            return f"{self.start:%B %Y}"
        year, week, _ = self.start.isocalendar()
        return f"Week {week} {year} ({self.start.day} {self.start:%b}-{last.day} {last:%b})"

    @property
    def short(self) -> str:
        """A label short enough for a chart axis."""
        if self.kind == "month":
            return f"{self.start:%b %y}"
        if self.kind == "quarter":
            return f"Q{(self.start.month - 1) // 3 + 1} {self.start:%y}"
        if self.kind == "week":
            return f"W{self.start.isocalendar()[1]} {self.start:%y}"
        return self.label

    @property
    def start_utc(self) -> datetime:
        return local_midnight_utc(self.start, self.tz)

    @property
    def end_utc(self) -> datetime:
        return local_midnight_utc(self.end, self.tz)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def months(self) -> float:
        """How many months' worth the period is: exactly 1, 3, 12 for calendar ones."""
        return {"month": 1.0, "quarter": 3.0, "year": 12.0}.get(
            self.kind, self.days / DAYS_PER_MONTH
        )

    def contains(self, moment_utc: datetime) -> bool:
        return self.start_utc <= moment_utc < self.end_utc

    def as_of(self, now_utc: datetime) -> datetime:
        """The instant the period is judged at: its end, or now while it is still running."""
        return min(self.end_utc, now_utc)

    def is_future(self, now_utc: datetime) -> bool:
        return self.start_utc > now_utc

    def previous(self) -> Period:
        return containing(self.start - timedelta(days=1), self.kind, self.tz)

    def next(self) -> Period:
        return containing(self.end, self.kind, self.tz)

    def back(self, count: int) -> list[Period]:
        """The last `count` periods ending with this one, oldest first."""
        periods = [self]
        while len(periods) < count:
            periods.append(periods[-1].previous())
        return periods[::-1]

    def __str__(self) -> str:
        return self.label


def containing(day: date, kind: str, tz: ZoneInfo) -> Period:
    """The period of `kind` holding the local day `day`."""
    if kind == "year":
        return Period(kind, date(day.year, 1, 1), date(day.year + 1, 1, 1), tz)
    if kind == "quarter":
        first = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        return Period(kind, first, _add_months(first, 3), tz)
    if kind == "month":
        first = day.replace(day=1)
        return Period(kind, first, _add_months(first, 1), tz)
    if kind == "week":
        monday = day - timedelta(days=day.weekday())
        return Period(kind, monday, monday + timedelta(days=7), tz)
    raise PeriodError(f"Unknown period kind {kind!r}: use one of {', '.join(KINDS)}.")


def containing_moment(moment_utc: datetime, kind: str, tz: ZoneInfo) -> Period:
    return containing(to_local(moment_utc, tz).date(), kind, tz)


def parse(label: str, tz: ZoneInfo) -> Period:
    """'2026-Q3' -> the third quarter of 2026 in `tz`; PeriodError for anything else."""
    label = (label or "").strip().upper()
    for kind, pattern in _PATTERNS:
        match = pattern.match(label)
        if not match:
            continue
        year = int(match.group(1))
        if not 1900 < year < 9999:
            break
        if kind == "year":
            return containing(date(year, 1, 1), kind, tz)
        number = int(match.group(2))
        if kind == "quarter":
            return containing(date(year, number * 3 - 2, 1), kind, tz)
        if kind == "month":
            if not 1 <= number <= 12:
                break
            return containing(date(year, number, 1), kind, tz)
        try:
            return containing(date.fromisocalendar(year, number, 1), kind, tz)
        except ValueError:
            break
    raise PeriodError(
        f"Not a period: {label!r}. Use 2026 (year), 2026-Q3 (quarter), 2026-07 (month) "
        "or 2026-W27 (ISO week)."
    )


def _add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
