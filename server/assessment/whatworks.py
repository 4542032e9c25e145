"""What works: per kind of engagement, per team and force-wide, what it reached for the time given.

Two grouped queries over the period's counted facts (facts.py): one by (team, kind) for
engagements, people and officer time; one by (team, kind, groups mask) for the groups
reached. People per officer-hour uses only records that give both a people count and a
duration, so a missing duration never inflates it.

The priority loop (loop.py), for the priorities set in the period: which kinds of engagement
raised the concerns behind them (the records a priority's concern_record_ids name), and how many
days each took to get its first public feedback, by the kinds of action linked to it (a priority
counts under every kind of action it had; "no action recorded" when it had none).

Broadcast kinds (marked `broadcast` in schema/vocabularies.json: social-media posts, web-page
updates, community alerts) record the audience reached, not people spoken with, so their
"people per officer-hour" is reach per hour of writing and is shown apart from in-person kinds.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from statistics import median

import sqlalchemy as sa

from server.assessment import loop
from server.assessment.periods import to_local
from server.assessment.sql import Scope
from server.catalogues import vocabularies
from server.db import db
from server.db.models import AssessmentFact as Fact


@dataclass
class Row:
    kind: str
    engagements: int = 0
    people: int = 0
    timed_people: int = 0  # people on records that also give a duration
    minutes: int = 0  # officer minutes on those records
    groups: dict[str, int] = field(default_factory=dict)  # group -> engagements reaching it
    seldom_people: dict[str, int] = field(default_factory=dict)  # seldom group -> people

    @property
    def people_per_hour(self) -> float | None:
        return self.timed_people / (self.minutes / 60) if self.minutes else None

    def add(self, other: Row) -> None:
        self.engagements += other.engagements
        self.people += other.people
        self.timed_people += other.timed_people
        self.minutes += other.minutes
        for code, n in other.groups.items():
            self.groups[code] = self.groups.get(code, 0) + n
        for code, n in other.seldom_people.items():
            self.seldom_people[code] = self.seldom_people.get(code, 0) + n


@dataclass
class Raised:
    """Concerns that became priorities, by the kind of record they were raised on."""

    kind: str
    records: set[str] = field(default_factory=set)  # records whose concerns are behind one
    priorities: set[str] = field(default_factory=set)

    @property
    def priority_count(self) -> int:
        return len(self.priorities)

    def add(self, other: Raised) -> None:
        self.records |= other.records
        self.priorities |= other.priorities


@dataclass
class Answered:
    """Priorities by a kind of action linked to them, and the days each took to get its first
    public feedback (local days from the day it was set)."""

    kind: str  # "" for priorities with no action recorded
    priorities: int = 0
    days: list[int] = field(default_factory=list)  # one per priority that got public feedback

    @property
    def median_days(self) -> float | None:
        return float(median(self.days)) if self.days else None

    def add(self, other: Answered) -> None:
        self.priorities += other.priorities
        self.days += other.days


@dataclass
class WhatWorks:
    by_team: dict[int, dict[str, Row]]  # team -> kind -> row
    force: dict[str, Row]  # kind -> row, over every team in scope
    raised_by_team: dict[int, dict[str, Raised]] = field(default_factory=dict)
    raised: dict[str, Raised] = field(default_factory=dict)
    answered_by_team: dict[int, dict[str, Answered]] = field(default_factory=dict)
    answered: dict[str, Answered] = field(default_factory=dict)

    @staticmethod
    def split(rows: dict[str, Row]) -> tuple[dict[str, Row], dict[str, Row]]:
        """(in-person kinds, broadcast kinds): their people are not the same kind of figure."""
        vocab = vocabularies()
        broadcast = {k["code"] for k in vocab.kinds if k.get("broadcast")}
        return (
            {kind: row for kind, row in rows.items() if kind not in broadcast},
            {kind: row for kind, row in rows.items() if kind in broadcast},
        )

    def seldom(self, rows: dict[str, Row]) -> dict[str, dict]:
        """Seldom-heard groups broken out: engagements and people per group, and by which kinds."""
        seldom = vocabularies().seldom_heard
        out: dict[str, dict] = {}
        for kind, row in rows.items():
            for code, n in row.groups.items():
                if code not in seldom:
                    continue
                entry = out.setdefault(code, {"engagements": 0, "people": 0, "kinds": {}})
                entry["engagements"] += n
                entry["people"] += row.seldom_people.get(code, 0)
                entry["kinds"][kind] = entry["kinds"].get(kind, 0) + n
        return dict(sorted(out.items(), key=lambda item: -item[1]["engagements"]))


def what_works(scope: Scope) -> WhatWorks:
    timed = sa.and_(Fact.people_count.is_not(None), Fact.duration_minutes > 0)
    query = (
        sa.select(
            Fact.team_id,
            Fact.kind,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(Fact.people_count), 0),
            sa.func.coalesce(sa.func.sum(sa.case((timed, Fact.people_count), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((timed, Fact.duration_minutes), else_=0)), 0),
        )
        .where(*scope.counted(), *scope.in_period())
        .group_by(Fact.team_id, Fact.kind)
    )
    by_team: dict[int, dict[str, Row]] = defaultdict(dict)
    for team_id, kind, count, people, timed_people, minutes in db.session.execute(query):
        by_team[team_id][kind] = Row(kind, count, int(people), int(timed_people), int(minutes))
    groups = (
        sa.select(
            Fact.team_id,
            Fact.kind,
            Fact.group_mask,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(Fact.people_count), 0),
        )
        .where(*scope.counted(), *scope.in_period(), Fact.group_mask != 0)
        .group_by(Fact.team_id, Fact.kind, Fact.group_mask)
    )
    seldom = scope.seldom_heard
    for team_id, kind, mask, count, people in db.session.execute(groups):
        row = by_team[team_id][kind]
        for code in scope.groups_in(mask):
            row.groups[code] = row.groups.get(code, 0) + count
            if code in seldom:
                row.seldom_people[code] = row.seldom_people.get(code, 0) + int(people)
    wanted = set(scope.teams)
    # A local priority is what the team set, not an engagement: it has its own tables below.
    by_team = {
        team: {kind: row for kind, row in rows.items() if kind != loop.PRIORITY}
        for team, rows in by_team.items()
        if team in wanted
    }
    force: dict[str, Row] = {}
    for rows in by_team.values():
        for kind, row in rows.items():
            force.setdefault(kind, Row(kind)).add(row)
    result = WhatWorks(by_team, force)
    _loop(scope, result)
    return result


def _loop(scope: Scope, result: WhatWorks) -> None:
    """The priorities set in the period: what raised their concerns, how fast they were
    answered in public, by kind of action."""
    tz = scope.period.tz
    found = loop.priorities(
        scope.teams,
        scope.catalogue,
        tz,
        scope.period.end_utc,
        linked_until=scope.as_of,
        concerns=True,
        since=scope.period.start_utc,
    )
    for p in found:
        raised = result.raised_by_team.setdefault(p.team_id, {})
        for concern in p.concerns:
            row = raised.setdefault(concern.record_kind, Raised(concern.record_kind))
            row.records.add(concern.record_id)
            row.priorities.add(p.id)
        first = next((f for f in p.feedback if f.public and f.occurred_at >= p.occurred_at), None)
        took = (to_local(first.occurred_at, tz).date() - p.set_day).days if first else None
        answered = result.answered_by_team.setdefault(p.team_id, {})
        for kind in sorted({a.kind for a in p.actions}) or [""]:
            row = answered.setdefault(kind, Answered(kind))
            row.priorities += 1
            if took is not None:
                row.days.append(took)
    for rows in result.raised_by_team.values():
        for kind, raised_row in rows.items():
            result.raised.setdefault(kind, Raised(kind)).add(raised_row)
    for team_rows in result.answered_by_team.values():
        for kind, answered_row in team_rows.items():
            result.answered.setdefault(kind, Answered(kind)).add(answered_row)
