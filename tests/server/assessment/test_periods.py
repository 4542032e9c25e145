"""Periods in Europe/London: labels, edges in UTC, clock changes."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.assessment.periods import PeriodError, containing, containing_moment, parse

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    "label, start, end",
    [
        ("2026", date(2026, 1, 1), date(2027, 1, 1)),
        ("2026-Q3", date(2026, 7, 1), date(2026, 10, 1)),
        ("2026-Q4", date(2026, 10, 1), date(2027, 1, 1)),
        ("2026-07", date(2026, 7, 1), date(2026, 8, 1)),
        ("2026-12", date(2026, 12, 1), date(2027, 1, 1)),
        ("2026-W27", date(2026, 6, 29), date(2026, 7, 6)),
        ("2026-W01", date(2025, 12, 29), date(2026, 1, 5)),  # ISO week 1 starts in December
        ("2020-W53", date(2020, 12, 28), date(2021, 1, 4)),
        ("2026-q1", date(2026, 1, 1), date(2026, 4, 1)),
    ],
)
def test_labels_parse_to_local_days(label, start, end):
    period = parse(label, LONDON)
    assert (period.start, period.end) == (start, end)
    assert period.label == label.upper()


@pytest.mark.parametrize("label", ["2026-13", "2026-Q5", "2026-W54", "2021-W53", "26-Q1", "", "Q3"])
def test_bad_labels_are_refused_with_the_syntax(label):
    with pytest.raises(PeriodError, match="2026-Q3"):
        parse(label, LONDON)


def test_edges_are_local_midnight_in_utc():
    # April is in BST: it starts at 23:00 UTC on 31 March. January is GMT.
    april = parse("2026-04", LONDON)
    assert april.start_utc == datetime(2026, 3, 31, 23, 0)
    assert april.end_utc == datetime(2026, 4, 30, 23, 0)
    assert parse("2026-01", LONDON).start_utc == datetime(2026, 1, 1, 0, 0)


def test_half_past_midnight_bst_on_1_april_is_april():
    moment = datetime(2026, 3, 31, 23, 30)  # 00:30 BST on 1 April
    assert containing_moment(moment, "month", LONDON).label == "2026-04"
    assert containing_moment(moment, "quarter", LONDON).label == "2026-Q2"
    assert containing_moment(datetime(2026, 3, 31, 22, 59), "month", LONDON).label == "2026-03"


def test_clock_change_weeks_are_23_and_25_hours_short_and_long():
    spring = containing(date(2026, 3, 29), "week", LONDON)  # clocks go forward Sun 29 March
    autumn = containing(date(2026, 10, 25), "week", LONDON)  # back on Sun 25 October
    assert (spring.end_utc - spring.start_utc).total_seconds() == 7 * 86400 - 3600
    assert (autumn.end_utc - autumn.start_utc).total_seconds() == 7 * 86400 + 3600
    # 00:30 local on the Monday after the spring change is 23:30 UTC on the Sunday.
    assert containing_moment(datetime(2026, 3, 29, 23, 30), "week", LONDON).label == "2026-W14"
    assert containing_moment(datetime(2026, 3, 29, 22, 59), "week", LONDON).label == "2026-W13"


def test_previous_and_next_cross_years():
    assert parse("2026-Q1", LONDON).previous().label == "2025-Q4"
    assert parse("2026-W01", LONDON).previous().label == "2025-W52"
    assert parse("2026-12", LONDON).next().label == "2027-01"
    assert [p.label for p in parse("2026-02", LONDON).back(3)] == ["2025-12", "2026-01", "2026-02"]


def test_months_scale_thresholds():
    assert parse("2026-Q3", LONDON).months == 3
    assert parse("2026", LONDON).months == 12
    assert parse("2026-W27", LONDON).months == pytest.approx(7 * 12 / 365.2425)


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)),
    st.sampled_from(["week", "month", "quarter", "year"]),
)
def test_every_moment_is_in_exactly_one_period(moment, kind):
    period = containing_moment(moment, kind, LONDON)
    assert period.contains(moment)
    assert not period.previous().contains(moment) and not period.next().contains(moment)
    assert period.previous().end == period.start and period.next().start == period.end
    assert parse(period.label, LONDON) == period
