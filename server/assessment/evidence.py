"""The exact records behind each figure, with a note saying how each one counted.

Each measure type lists the records its aggregate read, filtering assessment_fact with the same
conditions (sql.py, measures.py) and joining the record only for what a person reads, so the
evidence and the figure cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from server.assessment.measures import (
    DAY,
    contact_key,
    known_contacts,
    renewal_window,
    seconds,
    series,
)
from server.assessment.ratings import number
from server.assessment.sql import Scope, has_bits, where_selected
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


@dataclass
class Evidence:
    items: list[Item]
    total: int
    lines: list[str] = field(default_factory=list)  # what the list shows, in a sentence or two
    breakdown: list[tuple[str, int]] = field(default_factory=list)
    breakdown_of: str = ""  # "officer" or "group": what the breakdown's labels name


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


def _page(query, limit: int, offset: int):
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    )
    return total, db.session.execute(query.limit(limit).offset(offset)).all()


def _in_period(scope: Scope, measure: dict, team_id: int) -> list:
    return [
        *scope.counted(),
        *scope.in_period(),
        *where_selected(measure, scope),
        Fact.team_id == team_id,
    ]


OLDEST_FIRST = (Fact.occurred_at, Fact.record_id)
NEWEST_FIRST = (Fact.occurred_at.desc(), Fact.record_id)


def _count(scope, measure, team_id, limit, offset) -> Evidence:
    conditions = _in_period(scope, measure, team_id)
    total, rows = _page(_base().where(*conditions).order_by(*OLDEST_FIRST), limit, offset)
    evidence = Evidence(_items(rows), total, [f"{total} records counted in {scope.period.title}."])
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


def _share_publicised(scope, measure, team_id, limit, offset) -> Evidence:
    query = _base(Fact.notice_seconds).where(*_in_period(scope, measure, team_id))
    total, rows = _page(query.order_by(*OLDEST_FIRST), limit, offset)
    items = _items(rows)
    wanted = measure["min_days"]
    for item, row in zip(items, rows):
        ahead = row[2]
        if ahead is None:
            item.note, item.counts = "Not publicised", False
        else:
            item.counts = ahead >= wanted * DAY
            item.note = f"Publicised {number(ahead / DAY)} days ahead" + (
                "" if item.counts else f": under {wanted}"
            )
    return Evidence(items, total, [f"Meetings held; publicised {wanted} or more days ahead count."])


def _mean_people(scope, measure, team_id, limit, offset) -> Evidence:
    query = _base().where(*_in_period(scope, measure, team_id))
    total, rows = _page(query.order_by(*OLDEST_FIRST), limit, offset)
    items = _items(rows)
    for item in items:
        item.counts = item.people_count is not None
        item.note = f"{item.people_count} people" if item.counts else "Attendance not recorded"
    return Evidence(items, total, ["Meetings held and how many came."])


def _distinct_groups(scope, measure, team_id, limit, offset) -> Evidence:
    only = scope.seldom_heard if measure.get("seldom_heard_only") else None
    wanted = scope.group_mask(only) if only is not None else -1  # -1: every bit
    reached = has_bits(Fact.group_mask, wanted)
    query = _base(Fact.group_mask).where(*_in_period(scope, measure, team_id), reached)
    total, rows = _page(query.order_by(*OLDEST_FIRST), limit, offset)
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
    )


def _longest_gap(scope, measure, team_id, limit, offset) -> Evidence:
    conditions = [*series(scope, measure), *scope.in_period(), Fact.team_id == team_id]
    total, rows = _page(_base().where(*conditions).order_by(*OLDEST_FIRST), limit, offset)
    items = _items(rows)
    previous = None
    if offset and rows:
        previous = db.session.scalar(
            sa.select(sa.func.max(Fact.occurred_at)).where(
                *conditions, Fact.occurred_at < items[0].occurred_at
            )
        )
    for item in items:
        since = previous or scope.period.start_utc
        what = "after the previous one" if previous else "after the period began"
        item.note = f"{number(seconds(item.occurred_at, since) / DAY)} days {what}"
        previous = item.occurred_at
    return Evidence(items, total, ["Every record in the period, with the gap before each."])


def _days_since_last(scope, measure, team_id, limit, offset) -> Evidence:
    query = _base().where(*series(scope, measure), Fact.team_id == team_id)
    total, rows = _page(query.order_by(*NEWEST_FIRST), limit, offset)
    items = _items(rows)
    for position, item in enumerate(items):
        item.counts = position == 0 and offset == 0
        item.note = (
            f"{number(seconds(scope.as_of, item.occurred_at) / DAY)} days before "
            f"{_as_of_words(scope)}"
        )
        if item.counts:
            item.note = "Latest: " + item.note
    return Evidence(items, total, ["The latest record decides the figure; earlier ones follow."])


def _share_renewed(scope, measure, team_id, limit, offset) -> Evidence:
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
    total, rows = _page(query.order_by(*NEWEST_FIRST), limit, offset)
    items = _items(rows)
    for item, row in zip(items, rows):
        record = row[0]
        who = ", ".join(p for p in (record.contact_role, record.contact_org) if p)
        days = number(seconds(scope.as_of, item.occurred_at) / DAY)
        item.counts = item.occurred_at >= renewed_since
        tail = f"last met {days} days before {_as_of_words(scope)}; " + (
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
    )


_BY_TYPE = {
    "count": _count,
    "share_publicised": _share_publicised,
    "mean_people": _mean_people,
    "distinct_groups": _distinct_groups,
    "longest_gap_days": _longest_gap,
    "days_since_last": _days_since_last,
    "share_renewed": _share_renewed,
}


def evidence(
    scope: Scope, measure: dict, team_id: int, limit: int = 100, offset: int = 0
) -> Evidence:
    """The records behind one team's figure for one measure, a page at a time."""
    return _BY_TYPE[measure["type"]](scope, measure, team_id, limit, offset)
