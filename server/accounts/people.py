"""Teams and users: the plain functions behind the CLI and the console."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from server.accounts.auth import hash_password
from server.db import db
from server.db.models import ROLES, Team, User

TEAM_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,19}$")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
MIN_PASSWORD = 10
TEAMLESS_ROLES = ("admin", "panel")


class PeopleError(ValueError):
    """A team or user cannot be added or changed as asked."""


def add_team(code: str, name: str, area: str = "") -> Team:
    code = code.strip().upper()
    if not TEAM_CODE.match(code):
        raise PeopleError("A team code is 2-20 letters, digits or hyphens, e.g. NPT-WEY.")
    if db.session.scalar(select(Team).where(Team.code == code)):
        raise PeopleError(f"Team {code} already exists.")
    if not name.strip():
        raise PeopleError("A team needs a name.")
    team = Team(code=code, name=name.strip(), area=area.strip())
    db.session.add(team)
    db.session.commit()
    return team


def find_team(code: str | None) -> Team | None:
    if not code:
        return None
    team = db.session.scalar(select(Team).where(Team.code == code.strip().upper()))
    if team is None:
        raise PeopleError(f"No team with code {code.upper()}.")
    return team


def add_user(
    username: str, password: str, role: str, team_code: str | None, display_name: str = ""
) -> User:
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise PeopleError(
            "A username is 2-80 lowercase letters, digits, dots, hyphens or underscores."
        )
    if role not in ROLES:
        raise PeopleError(f"Role must be one of {', '.join(ROLES)}.")
    if len(password) < MIN_PASSWORD:
        raise PeopleError(f"A password needs at least {MIN_PASSWORD} characters.")
    if role in TEAMLESS_ROLES and team_code:
        # An admin or a panel member sees every team: a stored team would mean nothing.
        who = "An admin" if role == "admin" else "A panel member"
        raise PeopleError(
            f"{who} sees every team; leave out --team (it is for officers and supervisors)."
        )
    team = find_team(team_code)
    if role in ("officer", "supervisor") and team is None:
        raise PeopleError(f"A{'n' if role == 'officer' else ''} {role} needs a team (--team CODE).")
    if db.session.scalar(select(User).where(func.lower(User.username) == username)):
        raise PeopleError(f"User {username} already exists.")
    user = User(
        username=username,
        display_name=display_name.strip() or username,
        password_hash=hash_password(password),
        role=role,
        team_id=team.id if team else None,
    )
    if role == "supervisor":
        assert team is not None  # a supervisor without a team was refused above
        user.supervised.append(team)
    db.session.add(user)
    db.session.commit()
    return user


# One address, plainly: something@domain.tld, no spaces or angle brackets (a header injection).
EMAIL = re.compile(r"^[^@\s<>,;\"]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def set_email(username: str, address: str) -> User:
    """Where the user's alerts digest goes; an empty address means no digest."""
    user = db.session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    if user is None:
        raise PeopleError(f"No user {username}.")
    address = address.strip()
    if address and (len(address) > 254 or not EMAIL.match(address)):
        raise PeopleError(f"{address!r} is not an email address (e.g. j.jones@force.police.uk).")
    user.email = address or None
    db.session.commit()
    return user
