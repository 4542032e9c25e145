"""What works: per kind of engagement, per team and force-wide, what it reached for the time given.

Two grouped queries over the period's counted facts (facts.py): one by (team, kind) for
engagements, people and officer time; one by (team, kind, groups mask) for the groups
reached. People per officer-hour uses only records that give both a people count and a
duration, so a missing duration never inflates it.

Broadcast kinds (marked `broadcast` in schema/vocabularies.json: social-media posts, web-page
updates, community alerts) record the audience reached, not people spoken with, so their
"people per officer-hour" is reach per hour of writing and is shown apart from in-person kinds.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa

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
class WhatWorks:
    by_team: dict[int, dict[str, Row]]  # team -> kind -> row
    force: dict[str, Row]  # kind -> row, over every team in scope

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
    by_team = {team: rows for team, rows in by_team.items() if team in wanted}
    force: dict[str, Row] = {}
    for rows in by_team.values():
        for kind, row in rows.items():
            force.setdefault(kind, Row(kind)).add(row)
    return WhatWorks(by_team, force)
