"""Choices for the console's filter and edit forms, limited to what the user may see."""

from __future__ import annotations

import sqlalchemy as sa

from server.catalogues import catalogues, vocabularies
from server.console.record_query import REVIEW_FILTERS
from server.db import db
from server.db.models import Team, User


def visible_teams(team_ids: set[int] | None) -> list[Team]:
    query = sa.select(Team).order_by(Team.code)
    if team_ids is not None:
        query = query.where(Team.id.in_(sorted(team_ids)) if team_ids else sa.false())
    return list(db.session.scalars(query))


def visible_officers(team_ids: set[int] | None, team_id: int | None = None) -> list[User]:
    query = sa.select(User).where(User.role == "officer").order_by(User.display_name, User.username)
    if team_id is not None:
        query = query.where(User.team_id == team_id)
    elif team_ids is not None:
        query = query.where(User.team_id.in_(sorted(team_ids)) if team_ids else sa.false())
    return list(db.session.scalars(query))


def kind_choices() -> list[tuple[str, str]]:
    return [(k["code"], k["title"]) for k in vocabularies().kinds]


def group_choices() -> list[tuple[str, str]]:
    return [(g["code"], g["title"]) for g in vocabularies().groups]


def standard_choices() -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for catalogue in reversed(catalogues().versions):
        for standard in catalogue.standards:
            seen.setdefault(standard["code"], standard.get("title", standard["code"]))
    return list(seen.items())


REVIEW_TITLES = {
    "pending": "Waiting for review (new or resubmitted)",
    "resubmitted": "Resubmitted after a review",
    "approved": "Approved",
    "returned": "Returned to the officer",
}


def review_choices() -> list[tuple[str, str]]:
    return [(state, REVIEW_TITLES.get(state, state)) for state in REVIEW_FILTERS]


def titles() -> dict[str, str]:
    """code -> title for kinds, groups and standards, for showing codes in tables."""
    found = dict(kind_choices())
    found.update(group_choices())
    found.update(standard_choices())
    return found
