"""Ratings, grades and the words for them, against Dorset's catalogue."""

from __future__ import annotations

import pytest

from schema import load_catalogues, load_vocabularies
from server.assessment import ratings
from server.assessment.periods import parse
from server.assessment.ratings import MET, NOT_MET, PARTLY, Thresholds

DORSET = load_catalogues(kind_codes=load_vocabularies().kind_codes).versions[0]


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, NOT_MET),
        (0, NOT_MET),
        (0.99, NOT_MET),
        (1, PARTLY),
        (1.9999999999999, MET),
        (2, MET),
        (9, MET),
    ],
)
def test_higher_is_better(value, expected):
    # 1.9999999999999 is 2 up to float noise from scaling a monthly threshold: it meets 2.
    assert ratings.rate(value, Thresholds(2, 1, True)) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, NOT_MET),
        (0, MET),
        (7, MET),
        (7.01, PARTLY),
        (14, PARTLY),
        (14.5, NOT_MET),
    ],
)
def test_lower_is_better(value, expected):
    assert ratings.rate(value, Thresholds(7, 14, False)) == expected


@pytest.mark.parametrize(
    "counts, grade",
    [
        ((10, 0, 0), "good"),
        ((8, 2, 0), "good"),
        ((9, 0, 1), "requires_improvement"),  # one not met rules out good
        ((5, 3, 2), "requires_improvement"),
        ((5, 2, 3), "inadequate"),  # three not met
        ((4, 6, 0), "inadequate"),  # fewer than five met
        ((0, 0, 10), "inadequate"),
    ],
)
def test_dorset_grades(counts, grade):
    met, partly, not_met = counts
    found = ratings.grade(DORSET, [MET] * met + [PARTLY] * partly + [NOT_MET] * not_met)
    assert found["grade"] == grade


def test_worst_and_change():
    assert ratings.worst([MET, PARTLY, MET]) == PARTLY
    assert ratings.worst([MET, NOT_MET, PARTLY]) == NOT_MET
    assert ratings.change(MET, PARTLY) == "better"
    assert ratings.change(PARTLY, MET) == "worse"
    assert ratings.change(MET, MET) == "same"
    assert ratings.change(MET, None) is None
    assert ratings.grade_change(DORSET, "good", "inadequate") == "better"
    assert ratings.grade_change(DORSET, "inadequate", "requires_improvement") == "worse"


def test_monthly_thresholds_scale_and_are_explained():
    alerts = DORSET.standard("ALERT")["measures"][0]
    london = DORSET.tz
    quarter = ratings.thresholds(alerts, parse("2026-Q3", london))
    assert (quarter.met, quarter.partly_met) == (6, 3)
    assert ratings.threshold_text(alerts, quarter) == (
        "Met at 6 or more (2 a month); partly met at 3 or more (1 a month)."
    )
    week = ratings.thresholds(alerts, parse("2026-W27", london))
    assert week.met == pytest.approx(2 * 7 * 12 / 365.2425)
    assert ratings.rate(1, week) == MET  # one alert in a week is above 2 a month
    social = DORSET.standard("SOCIAL")["measures"][0]
    assert ratings.threshold_text(social, ratings.thresholds(social, parse("2026-Q3", london))) == (
        "Met at 7 days or fewer; partly met at 14 days or fewer."
    )


def test_figure_words():
    kcl = DORSET.standard("KCL")["measures"][0]
    assert ratings.figure_text(kcl, 0.75, 3, 4) == "75% (3 of 4)"
    assert ratings.figure_text(kcl, None, 0, 0) == "no key contacts"
    f2f = DORSET.standard("F2F")["measures"][0]
    assert ratings.figure_text(f2f, 17.25, 69, 4) == "17.2 per officer"
    web = DORSET.standard("WEB")["measures"][0]
    assert ratings.figure_text(web, None) == "never"
    assert ratings.figure_text(web, 1.0) == "1 day"
    assert ratings.figure_text(web, 12.04) == "12 days"
