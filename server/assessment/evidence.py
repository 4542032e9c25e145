"""The exact records behind each figure, with a note saying how each one counted.

Each measure type lists the records its aggregate read, filtering assessment_fact with the same
conditions (sql.py, measures.py) and joining the record only for what a person reads, so the
evidence and the figure cannot drift apart. Each note is worked out from the record and the
period alone (a gap from the record before it, in SQL), never from its place on the page, so a
sample may put approved records first (the evidence pack: the panel reads only their summaries).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime

import sqlalchemy as sa

from server.assessment import loop
from server.assessment.measures import (
    DAY,
    contact_key,
    known_contacts,
    renewal_window,
    seconds,
    series,
)
from server.assessment.periods import to_local
from server.assessment.ratings import days
from server.assessment.sql import Scope, has_bits, seconds_between, where_selected
from server.catalogues import vocabularies
from server.db import db
from server.db.models import AssessmentFact as Fact
from server.db.models import Record, User
from server.records.redaction import RESTRICTED

CONTACT_WITHHELD = "A key contact (role and organisation withheld until approved)"


@dataclass
class Item:
    record_id: str
    occurred_at: datetime  # naive UTC
    kind: str
    summary: str
    officer_id: int
    officer: str
    people_count: int | None
    duration_minutes: int | None
    review_state: str
    note: str = ""
    # The note as the panel may read it, when `note` quotes the record's free text and the
    # record is not approved (None: the note shows nothing that needs withholding).
    panel_note: str | None = None
    counts: bool = True
    groups: list[str] = field(default_factory=list)
    longest: bool = False  # this record ends the longest gap (longest_gap_days)
    priority: PriorityDetail | None = None  # a local priority's loop (the loop measure types)


@dataclass
class Answer:
    """A record linked to a priority, as its evidence lists it."""

    record_id: str
    kind: str
    occurred_at: datetime  # naive UTC
    public: bool
    in_time: bool | None = None  # feedback within the measure's days (share_fed_back only)


@dataclass
class PriorityDetail:
    """What a priority's evidence shows besides the record: its concerns, actions, feedback."""

    status: str
    set_day: date
    deadline: date  # feedback due by, or the review date
    ended_on: date | None
    owner: str | None  # a name: left out for the panel like the officer column
    concerns: list[loop.Concern]
    actions: list[Answer]
    feedback: list[Answer]
    due: bool = True  # in the share's denominator (False: not judged yet)


@dataclass
class Evidence:
    items: list[Item]
    total: int
    lines: list[str] = field(default_factory=list)  # what the list shows, in a sentence or two
    breakdown: list[tuple[str, int]] = field(default_factory=list)
    breakdown_of: str = ""  # "officer" or "group": what the breakdown's labels name
    not_approved: int = 0  # of `total`, records no supervisor has approved yet


@dataclass(frozen=True)
class Window:
    """Which records of the list to show: a page, or (approved_first) a sample that puts the
    records a supervisor approved first, each part in the list's own order."""

    limit: int = 100
    offset: int = 0
    approved_first: bool = False


def _base(*columns):
    return (
        sa.select(Record, sa.func.coalesce(User.display_name, User.username), *columns)
        .select_from(Fact)
        .join(Record, Record.id == Fact.record_id)
        .join(User, User.id == Record.officer_id)
    )


def _items(rows) -> list[Item]:
    items = []
    for row in rows:
        record, officer = row[0], row[1]
        items.append(
            Item(
                record.id,
                record.occurred_at,
                record.kind,
                # A restricted record still counts, but its text is not disclosed; text removed
                # under the retention rule or erased shows its marker (redaction.MARKERS).
                RESTRICTED if record.restricted else record.summary,
                record.officer_id,
                officer,
                record.people_count,
                record.duration_minutes,
                record.review_state,
            )
        )
    return items


def _as_of_words(scope: Scope) -> str:
    return "now" if scope.as_of < scope.period.end_utc else "the period ended"


def _page(query, order, window: Window) -> tuple[int, int, list]:
    """(records in the list, how many of them are not approved, the window's rows)."""
    listed = query.order_by(None).subquery()
    total, not_approved = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(
                sa.func.sum(sa.case((listed.c.review_state != "approved", 1), else_=0)), 0
            ),
        )
    ).one()
    if window.approved_first:
        order = (sa.case((Record.review_state == "approved", 0), else_=1), *order)
    rows = db.session.execute(
        query.order_by(*order).limit(window.limit).offset(window.offset)
    ).all()
    return int(total), int(not_approved), list(rows)


def _evidence(rows, total: int, not_approved: int, lines: list[str], **extra) -> Evidence:
    return Evidence(_items(rows), total, lines, not_approved=not_approved, **extra)


def _in_period(scope: Scope, measure: dict, team_id: int) -> list:
    return [
        *scope.counted(),
        *scope.in_period(),
        *where_selected(measure, scope),
        Fact.team_id == team_id,
    ]


OLDEST_FIRST = (Fact.occurred_at, Fact.record_id)
NEWEST_FIRST = (Fact.occurred_at.desc(), Fact.record_id)


def _count(scope, measure, team_id, window: Window) -> Evidence:
    conditions = _in_period(scope, measure, team_id)
    total, waiting, rows = _page(_base().where(*conditions), OLDEST_FIRST, window)
    evidence = _evidence(
        rows, total, waiting, [f"{total} records counted in {scope.period.title}."]
    )
    if measure.get("per") == "officer":
        per_officer = db.session.execute(
            sa.select(sa.func.coalesce(User.display_name, User.username), sa.func.count())
            .select_from(Fact)
            .join(User, User.id == Fact.officer_id)
            .where(*conditions)
            .group_by(User.id, User.display_name, User.username)
            .order_by(sa.func.count().desc(), User.display_name, User.id)
        ).all()
        evidence.breakdown = [(name, count) for name, count in per_officer]
        evidence.breakdown_of = "officer"
    return evidence


def _share_publicised(scope, measure, team_id, window: Window) -> Evidence:
    query = _base(Fact.notice_seconds).where(*_in_period(scope, measure, team_id))
    total, waiting, rows = _page(query, OLDEST_FIRST, window)
    lines = [f"Meetings held; publicised {measure['min_days']} or more days ahead count."]
    found = _evidence(rows, total, waiting, lines)
    items = found.items
    wanted = measure["min_days"]
    for item, row in zip(items, rows):
        ahead = row[2]
        if ahead is None:
            item.note, item.counts = "Not publicised", False
        else:
            item.counts = ahead >= wanted * DAY
            item.note = f"Publicised {days(ahead / DAY)} ahead" + (
                "" if item.counts else f": under {wanted}"
            )
    return found


def _mean_people(scope, measure, team_id, window: Window) -> Evidence:
    query = _base().where(*_in_period(scope, measure, team_id))
    total, waiting, rows = _page(query, OLDEST_FIRST, window)
    found = _evidence(rows, total, waiting, ["Meetings held and how many came."])
    for item in found.items:
        item.counts = item.people_count is not None
        item.note = f"{item.people_count} people" if item.counts else "Attendance not recorded"
    return found


def _distinct_groups(scope, measure, team_id, window: Window) -> Evidence:
    only = scope.seldom_heard if measure.get("seldom_heard_only") else None
    wanted = scope.group_mask(only) if only is not None else -1  # -1: every bit
    reached = has_bits(Fact.group_mask, wanted)
    query = _base(Fact.group_mask).where(*_in_period(scope, measure, team_id), reached)
    total, waiting, rows = _page(query, OLDEST_FIRST, window)
    items = _items(rows)
    titles = vocabularies().title
    for item, row in zip(items, rows):
        item.groups = [g for g in scope.groups_in(row[2]) if only is None or g in only]
        item.note = "Reached: " + ", ".join(titles(g) for g in item.groups)
    per_group: dict[str, int] = {}
    for groups, count in db.session.execute(
        sa.select(Fact.group_mask, sa.func.count())
        .where(*_in_period(scope, measure, team_id), reached)
        .group_by(Fact.group_mask)
    ):
        for code in scope.groups_in(groups):
            if only is None or code in only:
                per_group[code] = per_group.get(code, 0) + count
    kind = "seldom-heard groups" if only is not None else "groups"
    return Evidence(
        items,
        total,
        [f"{len(per_group)} {kind} reached."],
        [(titles(code), per_group[code]) for code in sorted(per_group)],
        "group",
        not_approved=waiting,
    )


def _longest_gap(scope, measure, team_id, window: Window) -> Evidence:
    """Every record of the period with the gap before it (from the record before, or from the
    period's start), and which gap is the longest: the one that ends at a marked record, or the
    one from the last record to the period's end (to now while it runs)."""
    start = scope.period.start_utc
    conditions = [*series(scope, measure), *scope.in_period(), Fact.team_id == team_id]
    before = sa.func.lag(Fact.occurred_at, type_=sa.DateTime).over(order_by=OLDEST_FIRST)
    gaps = (
        sa.select(
            Fact.record_id.label("id"),
            Fact.occurred_at.label("t"),
            before.label("before"),
            seconds_between(Fact.occurred_at, sa.func.coalesce(before, start)).label("gap"),
        )
        .where(*conditions)
        .subquery()
    )
    query = _base(gaps.c.before, gaps.c.gap).join(gaps, gaps.c.id == Fact.record_id)
    total, waiting, rows = _page(query.where(*conditions), OLDEST_FIRST, window)
    found = _evidence(rows, total, waiting, ["Every record in the period, with the gap before it."])
    for item, row in zip(found.items, rows):
        what = "after the previous one" if row[2] is not None else "after the period began"
        item.note = f"{days(row[3] / DAY)} {what}"
    longest = db.session.execute(
        sa.select(gaps.c.id, gaps.c.t, gaps.c.before, gaps.c.gap)
        .order_by(gaps.c.gap.desc(), gaps.c.t)
        .limit(1)
    ).first()
    last = db.session.scalar(sa.select(sa.func.max(gaps.c.t)))
    found.lines.append(_longest_words(scope, longest, last))
    if longest is not None and longest[3] >= seconds(scope.as_of, last):
        for item in found.items:
            if item.record_id == longest[0]:
                item.longest = True
    return found


def _longest_words(scope: Scope, longest, last: datetime | None) -> str:
    """The longest gap in a sentence, with its dates in the force's time zone."""

    def when(t: datetime) -> str:
        return to_local(t, scope.period.tz).strftime("%a %d %b %Y %H:%M")

    end = "now" if scope.as_of < scope.period.end_utc else "the period's end"
    if longest is None or last is None:
        gap = days(max(seconds(scope.as_of, scope.period.start_utc), 0) / DAY)
        return f"No record in the period: the longest gap is all of it so far, {gap}."
    _, t, before, gap_seconds = longest
    tail = seconds(scope.as_of, last)
    if tail > gap_seconds:
        return f"The longest gap: {days(tail / DAY)}, from the last record ({when(last)}) to {end}."
    since = f"the record of {when(before)}" if before is not None else "the period's start"
    return (
        f"The longest gap: {days(gap_seconds / DAY)}, from {since} to the record of {when(t)} "
        "(marked below)."
    )


def _days_since_last(scope, measure, team_id, window: Window) -> Evidence:
    conditions = [*series(scope, measure), Fact.team_id == team_id]
    total, waiting, rows = _page(_base().where(*conditions), NEWEST_FIRST, window)
    lines = ["The latest record decides the figure; earlier ones follow."]
    found = _evidence(rows, total, waiting, lines)
    latest = db.session.scalar(
        sa.select(Fact.record_id).where(*conditions).order_by(*NEWEST_FIRST).limit(1)
    )
    for item in found.items:
        item.counts = item.record_id == latest
        item.note = f"{days(seconds(scope.as_of, item.occurred_at) / DAY)} before " + (
            _as_of_words(scope)
        )
        if item.counts:
            item.note = "Latest: " + item.note
    return found


def _share_renewed(scope, measure, team_id, window: Window) -> Evidence:
    """The latest contact with each key contact known in the lookback window."""
    _, renewed_since = renewal_window(scope, measure)
    role, org = contact_key()
    ranked = (
        sa.select(
            Fact.record_id.label("id"),
            sa.func.row_number()
            .over(partition_by=(role, org), order_by=NEWEST_FIRST)
            .label("rank"),
        )
        .where(*known_contacts(scope, measure), Fact.team_id == team_id)
        .subquery()
    )
    latest = sa.select(ranked.c.id).where(ranked.c.rank == 1)
    query = _base().where(Fact.record_id.in_(latest))
    total, waiting, rows = _page(query, NEWEST_FIRST, window)
    items = _items(rows)
    for item, row in zip(items, rows):
        record = row[0]
        who = ", ".join(p for p in (record.contact_role, record.contact_org) if p)
        since = days(seconds(scope.as_of, item.occurred_at) / DAY)
        item.counts = item.occurred_at >= renewed_since
        tail = f"last met {since} before {_as_of_words(scope)}; " + (
            "renewed" if item.counts else f"not renewed (over {measure['within_days']} days)"
        )
        item.note = f"{who}: {tail}"
        if record.review_state != "approved":
            # Role and organisation are free text the officer typed: the panel reads them only
            # once a supervisor approved the record, as it does summaries.
            item.panel_note = f"{CONTACT_WITHHELD}: {tail}"
    return Evidence(
        items,
        total,
        [
            "Each key contact (by role and organisation) met in the last "
            f"{measure['lookback_days']} days, with the latest contact; renewed means within "
            f"{measure['within_days']} days."
        ],
        not_approved=waiting,
    )


def _when(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def _loop_note(scope: Scope, measure: dict, priority: loop.Priority, verdict) -> str:
    tz = scope.period.tz
    deadline = _when(verdict.deadline)
    answered = (
        to_local(verdict.answer.occurred_at, tz).date() if verdict.answer is not None else None
    )
    if measure["type"] == "share_fed_back":
        if answered is not None:
            late = (answered - priority.set_day).days
            return f"Public feedback on {_when(answered)}, {days(late)} after it was set"
        if verdict.due:
            return f"No public feedback by {deadline}"
        return f"Not judged yet: public feedback due by {deadline}"
    if answered is not None:
        return f"Reviewed on {_when(answered)}, by its review date ({deadline})"
    if verdict.done and priority.ended_on is not None:
        return f"Ended on {_when(priority.ended_on)}, by its review date ({deadline})"
    if verdict.due:
        return f"Not reviewed by its review date ({deadline})"
    return f"Not judged yet: review due by {deadline}"


def _loop(scope, measure, team_id, window: Window) -> Evidence:
    """Every priority the share looks at, with its concerns, actions and feedback. Priorities
    are few: read whole (loop.py) and paged here."""
    found = loop.for_scope(replace(scope, teams=(team_id,)), [measure], concerns=True)
    judged = [(p, v) for p in found if (v := loop.judge(scope, measure, p)) is not None]
    names = dict(
        db.session.execute(
            sa.select(User.id, sa.func.coalesce(User.display_name, User.username)).where(
                User.id.in_(
                    sorted({p.officer_id for p, _ in judged} | {p.owner_id or 0 for p, _ in judged})
                )
            )
        ).all()
    )
    tz = scope.period.tz
    items = []
    for priority, verdict in judged:
        timed = measure["type"] == "share_fed_back"
        item = Item(
            priority.id,
            priority.occurred_at,
            loop.PRIORITY,
            RESTRICTED if priority.restricted else (priority.title or priority.summary),
            priority.officer_id,
            names.get(priority.officer_id, ""),
            None,
            None,
            priority.review_state,
            note=_loop_note(scope, measure, priority, verdict),
            counts=verdict.due and verdict.done,
        )
        item.priority = PriorityDetail(
            priority.status,
            priority.set_day,
            verdict.deadline,
            priority.ended_on,
            names.get(priority.owner_id) if priority.owner_id else None,
            priority.concerns,
            [Answer(r.id, r.kind, r.occurred_at, r.public) for r in priority.actions],
            [
                Answer(
                    r.id,
                    r.kind,
                    r.occurred_at,
                    r.public,
                    loop.in_time(measure, priority, r, tz) if timed else None,
                )
                for r in priority.feedback
            ],
            verdict.due,
        )
        items.append(item)
    due = sum(1 for _, v in judged if v.due)
    done = sum(1 for _, v in judged if v.due and v.done)
    if measure["type"] == "share_fed_back":
        line = (
            f"Priorities open in {scope.period.title}: {due} due, {done} with public feedback "
            f"within {measure['within_days']} days of being set."
        )
    else:
        line = (
            f"Priorities open in {scope.period.title} with a review date in it: {due} due, "
            f"{done} reviewed (or ended) by that date."
        )
    if window.approved_first:
        items.sort(key=lambda i: i.review_state != "approved")  # stable: oldest first within
    waiting = sum(1 for i in items if i.review_state != "approved")
    shown = items[window.offset : window.offset + window.limit]
    return Evidence(shown, len(items), [line], not_approved=waiting)


_BY_TYPE = {
    "count": _count,
    "share_publicised": _share_publicised,
    "mean_people": _mean_people,
    "distinct_groups": _distinct_groups,
    "longest_gap_days": _longest_gap,
    "days_since_last": _days_since_last,
    "share_renewed": _share_renewed,
    "share_fed_back": _loop,
    "share_reviewed_on_time": _loop,
}


def evidence(
    scope: Scope,
    measure: dict,
    team_id: int,
    limit: int = 100,
    offset: int = 0,
    approved_first: bool = False,
) -> Evidence:
    """The records behind one team's figure for one measure, a page at a time (approved_first:
    a sample with the records a supervisor approved first)."""
    window = Window(limit, offset, approved_first)
    return _BY_TYPE[measure["type"]](scope, measure, team_id, window)
