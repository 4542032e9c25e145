"""share_fed_back against the contract's words, worked out here for random priorities and
feedback around the edges of days, months and British Summer Time (hypothesis)."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loop_force import LoopForce, close_app, loop_catalogues, open_app

from server.assessment.grid import assess, resolve_period, visible_teams

LONDON = ZoneInfo("Europe/London")
START = datetime(2025, 7, 1)  # naive UTC
NOW = datetime(2026, 1, 15, 12, 0)
TEAMS = itertools.count(1)


@pytest.fixture(scope="module")
def loop(tmp_path_factory, database_server):
    folder = tmp_path_factory.mktemp("loop")
    url = database_server or f"sqlite:///{folder / 'loop.sqlite'}"
    app, ctx = open_app(url, loop_catalogues(folder / "standards"), database_server)
    try:
        yield LoopForce()
    finally:
        close_app(ctx, database_server)


def midnight_utc(day: date) -> datetime:
    local = datetime.combine(day, time(0), tzinfo=LONDON)
    return local.astimezone(timezone.utc).replace(tzinfo=None)


# Feedback anywhere in the first 40 days, or within 90 minutes of the deadline day's end.
feedback = st.tuples(
    st.one_of(
        st.tuples(st.just("after"), st.integers(-24 * 60, 40 * 24 * 60)),
        st.tuples(st.just("deadline"), st.integers(-90, 90)),
    ),
    st.booleans(),  # public
    st.booleans(),  # deleted afterwards
)
# Set anywhere from late May to early October, or within two hours of a period's edge.
EDGES = [datetime(2025, 6, 30, 23), datetime(2025, 7, 31, 23), datetime(2025, 9, 30, 23)]
priority = st.tuples(
    st.one_of(
        st.integers(-40 * 24 * 60, 100 * 24 * 60).map(lambda m: START + timedelta(minutes=m)),
        st.tuples(st.sampled_from(EDGES), st.integers(-120, 120)).map(
            lambda e: e[0] + timedelta(minutes=e[1])
        ),
    ),
    st.one_of(st.none(), st.integers(-45, 90)),  # ended this many days after the set day
    st.lists(feedback, max_size=3),
)


def local_day(moment: datetime) -> date:
    return moment.replace(tzinfo=timezone.utc).astimezone(LONDON).date()


def deadline_end(set_at: datetime) -> datetime:
    """The end of the deadline day (set day + 28), naive UTC."""
    return midnight_utc(local_day(set_at) + timedelta(days=29))


def answered_at(set_at: datetime, when: tuple[str, int]) -> datetime:
    base = set_at if when[0] == "after" else deadline_end(set_at)
    return base + timedelta(minutes=when[1])


def expected(label: str, as_of: datetime, priorities) -> tuple[int, int]:
    period = resolve_period(label, NOW)
    due = done = 0
    for set_at, ended, answers in priorities:
        set_day = local_day(set_at)
        ended_on = None if ended is None else set_day + timedelta(days=ended)
        if not set_at < period.end_utc or (ended_on is not None and ended_on < period.start):
            continue
        closes = deadline_end(set_at)
        answered = any(
            public and not deleted and set_at <= at < closes and at < as_of
            for at, public, deleted in ((answered_at(set_at, w), p, d) for w, p, d in answers)
        )
        if as_of >= closes or answered:
            due += 1
            done += answered
    return done, due


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(priority, min_size=1, max_size=5))
def test_share_fed_back_is_what_the_contract_says(loop, priorities):
    code = f"NPT-P{next(TEAMS)}"
    pc = loop.officer(code)
    for set_at, ended, answers in priorities:
        fields = {}
        if ended is not None:
            fields = {
                "priority_status": "resolved",
                "closed_on": (local_day(set_at) + timedelta(days=ended)).isoformat(),
            }
        p = loop.priority(pc, f"{set_at:%Y-%m-%d %H:%M}", **fields)
        for when, public, deleted in answers:
            at = answered_at(set_at, when)
            answer = loop.feedback(pc, f"{at:%Y-%m-%d %H:%M}", p, public=public)
            if deleted:
                loop.delete(pc, answer)
    team = next(t for t in visible_teams(None) if t.code == code)
    for label, now in (
        ("2025-Q3", NOW),
        ("2025-08", NOW),
        ("2025-Q4", NOW),
        ("2025-W31", NOW),  # a week: no rollups
        ("2025-Q3", datetime(2025, 8, 20, 22, 30)),  # running: judged so far
    ):
        period = resolve_period(label, now)
        judged = assess(period, [team], now).team(code).by_code["FEEDBACK"].headline.figure
        assert (judged.numerator, judged.denominator) == expected(
            label, period.as_of(now), priorities
        ), label


# A review dated within 90 minutes of the review date's end, or anywhere in 60 days.
review = st.tuples(
    st.one_of(
        st.tuples(st.just("after"), st.integers(-24 * 60, 60 * 24 * 60)),
        st.tuples(st.just("review_by"), st.integers(-90, 90)),
    ),
    st.sampled_from(["priority_review", "face_to_face"]),  # only the first reviews
    st.booleans(),  # deleted afterwards
)
reviewed_priority = st.tuples(
    priority.map(lambda p: p[0]),  # when it was set
    st.one_of(st.none(), st.integers(-5, 60)),  # review by this many days after the set day
    st.one_of(st.none(), st.integers(0, 60)),  # ended this many days after the set day
    st.lists(review, max_size=3),
)


def review_at(set_at: datetime, review_by: date | None, when: tuple[str, int]) -> datetime:
    if when[0] == "after" or review_by is None:
        return set_at + timedelta(minutes=when[1])
    return midnight_utc(review_by + timedelta(days=1)) + timedelta(minutes=when[1])


def expected_reviews(label: str, as_of: datetime, priorities) -> tuple[int, int]:
    period = resolve_period(label, NOW)
    due = done = 0
    for set_at, by, ended, reviews in priorities:
        set_day = local_day(set_at)
        ended_on = None if ended is None else set_day + timedelta(days=ended)
        review_by = None if by is None else set_day + timedelta(days=by)
        if not set_at < period.end_utc or (ended_on is not None and ended_on < period.start):
            continue
        if review_by is None or not period.start <= review_by < period.end:
            continue
        today = local_day(as_of) if as_of < period.end_utc else review_by
        on_time = any(
            kind == "priority_review"
            and not deleted
            and set_day <= local_day(at) <= review_by
            and at < as_of
            for at, kind, deleted in (
                (review_at(set_at, review_by, w), k, d) for w, k, d in reviews
            )
        ) or (ended_on is not None and ended_on <= min(review_by, today))
        if as_of >= midnight_utc(review_by + timedelta(days=1)) or on_time:
            due += 1
            done += on_time
    return done, due


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(reviewed_priority, min_size=1, max_size=5))
def test_share_reviewed_on_time_is_what_the_contract_says(loop, priorities):
    code = f"NPT-R{next(TEAMS)}"
    pc = loop.officer(code)
    for set_at, by, ended, reviews in priorities:
        set_day = local_day(set_at)
        review_by = None if by is None else set_day + timedelta(days=by)
        fields = {"review_by": review_by.isoformat() if review_by else None}
        if ended is not None:
            fields.update(
                priority_status="closed",
                closed_on=(set_day + timedelta(days=ended)).isoformat(),
                closed_reason="Done elsewhere",
            )
        p = loop.priority(pc, f"{set_at:%Y-%m-%d %H:%M}", **fields)
        for when, kind, deleted in reviews:
            at = review_at(set_at, review_by, when)
            made = loop.add(pc, f"{at:%Y-%m-%d %H:%M}", kind, priority_id=p)
            if deleted:
                loop.delete(pc, made)
    team = next(t for t in visible_teams(None) if t.code == code)
    for label, now in (
        ("2025-Q3", NOW),
        ("2025-08", NOW),
        ("2025-W32", NOW),
        ("2025-Q3", datetime(2025, 8, 20, 22, 30)),
    ):
        period = resolve_period(label, now)
        judged = assess(period, [team], now).team(code).by_code["PRIORITY"].headline.figure
        assert (judged.numerator, judged.denominator) == expected_reviews(
            label, period.as_of(now), priorities
        ), label
