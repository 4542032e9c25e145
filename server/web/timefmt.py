"""Times: naive UTC in the database, the force's local time (the catalogue's zone) on the page."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import Flask

from server.catalogues import catalogues


def force_zone() -> ZoneInfo:
    return catalogues().current.tz


def local(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc).astimezone(force_zone())


def day_start_utc(day: date) -> datetime:
    """The naive UTC instant a local day starts (so BST days filter correctly)."""
    start = datetime.combine(day, time.min, tzinfo=force_zone())
    return start.astimezone(timezone.utc).replace(tzinfo=None)


def day_end_utc(day: date) -> datetime:
    return day_start_utc(day + timedelta(days=1))


def format_when(value: datetime | None, with_seconds: bool = False) -> str:
    shown = local(value)
    if shown is None:
        return ""
    return shown.strftime("%d %b %Y %H:%M:%S" if with_seconds else "%d %b %Y %H:%M")


def format_day(value: datetime | None) -> str:
    shown = local(value)
    return "" if shown is None else shown.strftime("%d %b %Y")


def format_iso(value: object) -> str:
    """An ISO 8601 string from a record's data, in the force's local time; anything else as is."""
    if not isinstance(value, str):
        return "" if value is None else str(value)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(force_zone()).strftime("%d %b %Y %H:%M")


def format_ms(ms: int) -> str:
    """A clock reading in milliseconds since the epoch (as in HLC stamps), in local time."""
    return format_when(datetime.fromtimestamp(ms / 1000, timezone.utc).replace(tzinfo=None), True)


def format_ago(value: datetime | None, now: datetime) -> str:
    """'3 days ago' style, for last-sync columns."""
    if value is None:
        return "never"
    seconds = int((now - value).total_seconds())
    if seconds < 90:
        return "just now"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "just now"


def format_skew(ms: int | None) -> str:
    if ms is None:
        return "unknown"
    seconds = abs(ms) / 1000
    direction = "fast" if ms > 0 else "slow"
    if seconds < 2:
        return "in step"
    if seconds < 120:
        return f"{seconds:.0f} s {direction}"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min {direction}"
    return f"{seconds / 3600:.1f} h {direction}"


def init_time_filters(app: Flask) -> None:
    app.jinja_env.filters["when"] = format_when
    app.jinja_env.filters["when_s"] = lambda value: format_when(value, with_seconds=True)
    app.jinja_env.filters["skew"] = format_skew
    app.jinja_env.filters["day"] = format_day
    app.jinja_env.filters["iso_when"] = format_iso
    app.jinja_env.filters["ms_when"] = format_ms
    app.jinja_env.globals["ago"] = format_ago
