"""The priority loop: a team's local priorities, what was done about them and what it told the
public, read once per scope for the two loop measure types, their evidence, the public page and
what works.

Priorities are few (a team sets a handful a quarter), so this reads the record table itself:
the teams' `local_priority` records (a seek of ix_record_team_kind_time), then in one query each
the records that link to them by priority_id and the records whose concerns are behind them.
Links are resolved here and only within a team: a link to another team's record, to a deleted
or uncounted record, or to a record that is not a priority counts as no link.

Dates a person typed (closed_on, review_by) are local days; times are naive UTC, and a "set
day" is the local day of the priority's occurred_at in the catalogue's time zone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

import sqlalchemy as sa

from schema.records import ENDED, PRIORITY
from server.assessment.periods import local_midnight_utc, to_local
from server.assessment.sql import Scope
from server.db import db
from server.db.models import Record

FEEDBACK = "feedback"
DEFAULT_REVIEW_KINDS = ("priority_review",)


@lru_cache(maxsize=4096)
def midnight(day: date, tz) -> datetime:
    """local_midnight_utc, remembered: every priority of a grid asks for a few of them."""
    return local_midnight_utc(day, tz)


def _local_day(moment: datetime, tz) -> date:
    return to_local(moment, tz).date()


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


@dataclass
class Linked:
    """A counted record of the same team that links to a priority (an action or feedback)."""

    id: str
    kind: str
    occurred_at: datetime
    public: bool
    review_state: str
    restricted: bool
    summary: str
    redacted: bool


@dataclass
class Concern:
    record_id: str
    record_kind: str
    category: str
    phrase: str
    review_state: str
    restricted: bool


@dataclass
class Priority:
    id: str
    team_id: int
    officer_id: int
    occurred_at: datetime  # set, naive UTC
    set_day: date  # local
    title: str
    summary: str
    status: str
    ended_on: date | None  # closed_on, when the status says it ended
    review_by: date | None
    public: bool
    review_state: str
    restricted: bool
    redacted: bool
    owner_id: int | None
    concern_ids: list[str]
    linked: list[Linked] = field(default_factory=list)  # oldest first
    concerns: list[Concern] = field(default_factory=list)

    def open_in(self, scope: Scope) -> bool:
        """Set before the period's end and not ended before its first day."""
        return self.occurred_at < scope.period.end_utc and (
            self.ended_on is None or self.ended_on >= scope.period.start
        )

    @property
    def actions(self) -> list[Linked]:
        return [r for r in self.linked if r.kind != FEEDBACK]

    @property
    def feedback(self) -> list[Linked]:
        return [r for r in self.linked if r.kind == FEEDBACK]


def counted(catalogue) -> list:
    """The catalogue's counting rule on the record table (sql.Scope.counted's twin)."""
    conditions = [Record.deleted == sa.false()]
    if not catalogue.returned_records_count:
        conditions.append(Record.review_state != "returned")
    return conditions


PRIORITY_COLUMNS = (
    Record.id,
    Record.team_id,
    Record.officer_id,
    Record.occurred_at,
    Record.data,
    Record.summary,
    Record.public,
    Record.review_state,
    Record.restricted,
    Record.redaction.is_not(None).label("redacted"),
)


def _priority(record, tz) -> Priority:
    """A Priority from a row of PRIORITY_COLUMNS (columns, not an ORM object: a grid may read
    hundreds)."""
    data = record.data or {}
    status = data.get("priority_status") or "open"
    owner = data.get("owner_id")
    ids = data.get("concern_record_ids")
    return Priority(
        id=record.id,
        team_id=record.team_id,
        officer_id=record.officer_id,
        occurred_at=record.occurred_at,
        set_day=_local_day(record.occurred_at, tz),
        title=str(data.get("title") or ""),
        summary=record.summary,
        status=status,
        ended_on=_day(data.get("closed_on")) if status in ENDED else None,
        review_by=_day(data.get("review_by")),
        public=bool(record.public),
        review_state=record.review_state,
        restricted=bool(record.restricted),
        redacted=bool(record.redacted),
        owner_id=owner if isinstance(owner, int) else None,
        concern_ids=[i for i in ids if isinstance(i, str)] if isinstance(ids, list) else [],
    )


def priorities(
    teams: Collection[int],
    catalogue,
    tz,
    before: datetime,
    ended_since: date | None = None,
    *,
    linked_kinds: Iterable[str] | None = None,
    linked_until: datetime | None = None,
    concerns: bool = False,
    extra: Iterable = (),
    since: datetime | None = None,
) -> list[Priority]:
    """The counted priorities of `teams` set before `before` (and from `since`) and not ended before
    `ended_since`, with their linked records (only of `linked_kinds` when given; only before
    `linked_until` when given) and, with `concerns`, the concerns of the records behind them.
    Three queries at most, whatever the number of priorities."""
    if not teams:
        return []
    extra = tuple(extra)  # used by each query
    rows = db.session.execute(
        sa.select(*PRIORITY_COLUMNS).where(
            Record.team_id.in_(list(teams)),
            Record.kind == PRIORITY,
            Record.occurred_at < before,
            *counted(catalogue),
            *extra,
            *([Record.occurred_at >= since] if since is not None else []),
        )
    ).all()
    found = sorted((_priority(r, tz) for r in rows), key=lambda p: (p.occurred_at, p.id))
    if ended_since is not None:
        found = [p for p in found if p.ended_on is None or p.ended_on >= ended_since]
    if not found:
        return found
    _attach_linked(found, catalogue, tz, linked_kinds, linked_until, extra)
    if concerns:
        _attach_concerns(found, catalogue, extra)
    return found


def _attach_linked(found: list[Priority], catalogue, tz, kinds, until, extra) -> None:
    by_id = {p.id: p for p in found}
    # Nothing dated before the earliest set day can be an answer or a review of these.
    since = local_midnight_utc(min(p.set_day for p in found), tz)
    link = Record.data["priority_id"].as_string()
    query = sa.select(
        Record.id,
        Record.team_id,
        Record.kind,
        Record.occurred_at,
        Record.public,
        Record.review_state,
        Record.restricted,
        Record.summary,
        Record.redaction.is_not(None),
        link,
    ).where(
        Record.team_id.in_(sorted({p.team_id for p in found})),
        Record.occurred_at >= since,
        Record.kind != PRIORITY,
        link.in_(sorted(by_id)),
        *counted(catalogue),
        *extra,
    )
    if kinds is not None:
        query = query.where(Record.kind.in_(sorted(set(kinds))))
    if until is not None:
        query = query.where(Record.occurred_at < until)
    # Sorted here: ORDER BY occurred_at would lead SQLite to walk the (occurred_at, id) index
    # over every record since `since` rather than seek (team, kind, occurred_at).
    rows = sorted(db.session.execute(query).all(), key=lambda r: (r[3], r[0]))
    for rid, team, kind, when, public, state, restricted, summary, redacted, target in rows:
        priority = by_id.get(target)
        if priority is None or priority.team_id != team:  # another team's priority: no link
            continue
        priority.linked.append(
            Linked(rid, kind, when, bool(public), state, bool(restricted), summary, bool(redacted))
        )


def _attach_concerns(found: list[Priority], catalogue, extra) -> None:
    wanted = sorted({i for p in found for i in p.concern_ids})
    if not wanted:
        return
    rows = db.session.execute(
        sa.select(
            Record.id,
            Record.team_id,
            Record.kind,
            Record.data,
            Record.review_state,
            Record.restricted,
        ).where(Record.id.in_(wanted), *counted(catalogue), *extra)
    ).all()
    records = {r[0]: r for r in rows}
    for priority in found:
        for record_id in priority.concern_ids:
            row = records.get(record_id)
            if row is None or row[1] != priority.team_id:
                continue
            for concern in (row[3] or {}).get("concerns") or []:
                if isinstance(concern, dict) and isinstance(concern.get("category"), str):
                    priority.concerns.append(
                        Concern(
                            record_id,
                            row[2],
                            concern["category"],
                            str(concern.get("phrase") or ""),
                            row[4],
                            bool(row[5]),
                        )
                    )


# -- The two measure types (docs/standards.md, "The priority loop") --------------------------


def review_kinds(measure: dict) -> tuple[str, ...]:
    return tuple(measure.get("kinds") or DEFAULT_REVIEW_KINDS)


@dataclass
class Verdict:
    """How one priority counted for one measure."""

    due: bool  # in the share's denominator
    done: bool  # in its numerator
    deadline: date  # the last day feedback or a review counts
    answer: Linked | None = None  # the feedback or review that did it


def feedback_window(measure: dict, priority: Priority, tz) -> tuple[date, datetime]:
    """The deadline day (set day + within_days) and the instant it is over (naive UTC)."""
    deadline = priority.set_day + timedelta(days=int(measure["within_days"]))
    return deadline, midnight(deadline + timedelta(days=1), tz)


def in_time(measure: dict, priority: Priority, record: Linked, tz) -> bool:
    """Feedback dated from the priority's set time to the end of its deadline day."""
    _, closes = feedback_window(measure, priority, tz)
    return priority.occurred_at <= record.occurred_at < closes


def fed_back(scope: Scope, measure: dict, priority: Priority) -> Verdict:
    """Public feedback linked to it, dated from the set time to the end of the deadline day
    (set day + within_days), seen by the as-of time; due once that day is over."""
    deadline, closes = feedback_window(measure, priority, scope.period.tz)
    answer = next(
        (
            r
            for r in priority.feedback
            if r.public
            and in_time(measure, priority, r, scope.period.tz)
            and r.occurred_at < scope.as_of
        ),
        None,
    )
    return Verdict(
        scope.as_of >= closes or answer is not None, answer is not None, deadline, answer
    )


def reviewed(scope: Scope, measure: dict, priority: Priority) -> Verdict | None:
    """A review (a record of `kinds` linked to it) dated from the set day to review_by, or the
    priority ended by review_by; None when review_by does not fall in the period."""
    day = priority.review_by
    if day is None or not scope.period.start <= day < scope.period.end:
        return None
    tz = scope.period.tz
    closes = midnight(day + timedelta(days=1), tz)
    kinds = review_kinds(measure)
    answer = next(
        (
            r
            for r in priority.linked
            if r.kind in kinds
            and priority.set_day <= to_local(r.occurred_at, tz).date() <= day
            and r.occurred_at < scope.as_of
        ),
        None,
    )
    today = to_local(scope.as_of, tz).date() if scope.as_of < scope.period.end_utc else day
    ended = priority.ended_on is not None and priority.ended_on <= min(day, today)
    done = answer is not None or ended
    return Verdict(scope.as_of >= closes or done, done, day, answer)


def judge(scope: Scope, measure: dict, priority: Priority) -> Verdict | None:
    """The priority's verdict for the measure, or None when the measure does not look at it."""
    if not priority.open_in(scope):
        return None
    if measure["type"] == "share_fed_back":
        return fed_back(scope, measure, priority)
    return reviewed(scope, measure, priority)


def for_scope(scope: Scope, measures: Iterable[dict], concerns: bool = False) -> list[Priority]:
    """The priorities open in the scope's period, with what the measures need linked."""
    kinds = {FEEDBACK}
    for measure in measures:
        if measure["type"] == "share_reviewed_on_time":
            kinds.update(review_kinds(measure))
    return priorities(
        scope.teams,
        scope.catalogue,
        scope.period.tz,
        scope.period.end_utc,
        scope.period.start,
        linked_until=scope.as_of,
        linked_kinds=None if concerns else kinds,
        concerns=concerns,
    )


def shares(scope: Scope, items: list[tuple[int, dict]]) -> dict[int, dict[int, tuple[int, int]]]:
    """Each loop measure's (done, due) for every team in scope (measures.py makes the share)."""
    found = for_scope(scope, [m for _, m in items])
    by_team: dict[int, list[Priority]] = defaultdict(list)
    for priority in found:
        by_team[priority.team_id].append(priority)
    results: dict[int, dict[int, tuple[int, int]]] = {}
    for index, measure in items:
        results[index] = {}
        for team in scope.teams:
            verdicts = [judge(scope, measure, p) for p in by_team.get(team, [])]
            due = sum(1 for v in verdicts if v is not None and v.due)
            done = sum(1 for v in verdicts if v is not None and v.due and v.done)
            results[index][team] = (done, due)
    return results
