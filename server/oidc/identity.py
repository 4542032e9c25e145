"""A verified sign-in at the provider -> the Beatbook user (issue 16).

People are matched by the provider's issuer and stable subject (BEATBOOK_OIDC_SUBJECT_CLAIM:
`sub`, or `oid` for Entra ID), never by email or name, which change and get reused. The first
sign-in of someone the mapping gives a role and team creates their account; every later one
brings role and team up to date with the provider's groups. Nothing is committed here: the
caller commits with the access log entry.
"""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from server.accounts.people import USERNAME
from server.accounts.sessions import end_user_sessions
from server.clock import utcnow
from server.db import db
from server.db.access_log import add_entry
from server.db.models import Team, User
from server.oidc.client import seal, settings
from server.oidc.mapping import Rule

# Not an Argon2 hash, so no password ever matches it (server.accounts.auth.check_password).
NO_PASSWORD = "!single-sign-on"


class Refusal(Exception):
    """A sign-in the provider vouched for that Beatbook still refuses, in words for the page."""

    def __init__(self, reason: str, heading: str, message: str, user: User | None = None):
        super().__init__(message)
        self.reason, self.heading, self.message, self.user = reason, heading, message, user


def user_for(claims: dict, refresh_token: str | None) -> User:
    """The user these (already verified) ID token claims are; created on first sign-in."""
    found = settings()
    assert found is not None
    ask = found.mapping.ask
    subject = claims.get(found.subject_claim)
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise Refusal(
            "no_subject",
            "Your account cannot be used here",
            f"The sign-in did not say who you are (no {found.subject_claim!r} claim). Ask {ask}.",
        )
    rule = found.mapping.match(claims)
    user = db.session.scalar(
        select(User).where(User.oidc_issuer == found.issuer, User.oidc_subject == subject)
    )
    if user is not None and not user.active and not user.oidc_left:
        raise Refusal(
            "deactivated",
            "Your Beatbook account is deactivated",
            f"An administrator deactivated your Beatbook account. Ask {ask} if you need it back.",
            user,
        )
    if rule is None:
        raise Refusal(
            "unmapped",
            "You do not have access to Beatbook yet",
            f"Your force account signed in, but it is not in a group that Beatbook knows. "
            f"Ask {ask} to add you to the right Beatbook group, then sign in again.",
            user,
        )
    team = _team(rule, ask)
    if user is None:
        user = _create(claims, subject, found.issuer, rule, team)
    _apply(user, rule, team)  # nothing to change for an account just made
    if not user.active:  # the provider had said the account was gone; it is back
        user.active, user.oidc_left = True, False
        add_entry(
            "activate_user",
            user_id=None,
            target_type="user",
            target_id=user.id,
            detail={"username": user.username, "via": "oidc", "reason": "signed_in_again"},
        )
    user.oidc_refresh = seal(refresh_token)
    user.oidc_checked_at = utcnow()
    return user


def _team(rule: Rule, ask: str) -> Team | None:
    if rule.team is None:
        return None
    team = db.session.scalar(select(Team).where(Team.code == rule.team))
    if team is None or not team.active:
        raise Refusal(
            "no_team",
            "Your team is not set up in Beatbook",
            f"Your group gives you team {rule.team}, which Beatbook does not have. Ask {ask}.",
        )
    return team


def _create(claims: dict, subject: str, issuer: str, rule: Rule, team: Team | None) -> User:
    name = claims.get("name") if isinstance(claims.get("name"), str) else ""
    for _ in range(3):
        username = _free_username(claims, subject)
        user = User(
            username=username,
            display_name=(name or username).strip()[:120],
            password_hash=NO_PASSWORD,
            role=rule.role,
            team_id=team.id if team else None,
            oidc_issuer=issuer,
            oidc_subject=subject,
        )
        try:
            with db.session.begin_nested():
                db.session.add(user)
                db.session.flush()
        except IntegrityError:
            # Another sign-in of this person (a second tab, a double tap on the provider's
            # page) made the account first, or another newcomer took the username meanwhile.
            made = db.session.scalar(
                select(User).where(User.oidc_issuer == issuer, User.oidc_subject == subject)
            )
            if made is not None:
                return made
            continue
        if rule.role == "supervisor" and team is not None:
            user.supervised.append(team)  # after the insert stands: a rolled-back one is gone
        add_entry(
            "create_user",
            user_id=None,
            target_type="user",
            target_id=user.id,
            detail={"username": username, "role": rule.role, "team": rule.team, "via": "oidc"},
        )
        return user
    raise Refusal(
        "busy", "Sign-in is busy", "Several accounts were being made at once. Sign in again."
    )


def _apply(user: User, rule: Rule, team: Team | None) -> None:
    """Bring role and team in line with the provider's groups (the force's record of who is
    who); a change ends the user's console sessions, as a change by hand would."""
    team_id = team.id if team else None
    if user.role == rule.role and user.team_id == team_id:
        return
    before = {"role": user.role, "team_id": user.team_id}
    user.role, user.team_id = rule.role, team_id
    user.supervised = [team] if rule.role == "supervisor" and team is not None else []
    end_user_sessions(user.id, "role_changed")
    add_entry(
        "change_user",
        user_id=None,
        target_type="user",
        target_id=user.id,
        detail={"before": before, "role": rule.role, "team": rule.team, "via": "oidc"},
    )


def _free_username(claims: dict, subject: str) -> str:
    """A readable username from the provider's claims, made unique with -2, -3..."""
    for key in ("preferred_username", "email", "upn", "name"):
        value = claims.get(key)
        if isinstance(value, str) and value.strip():
            base = re.sub(r"[^a-z0-9._-]+", ".", value.split("@")[0].lower()).strip("._-")[:70]
            if USERNAME.match(base):
                break
    else:
        base = f"user-{hashlib.sha256(subject.encode()).hexdigest()[:8]}"
    candidate, number = base, 1
    while db.session.scalar(select(User.id).where(func.lower(User.username) == candidate)):
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def link(username: str, subject: str) -> User:
    """`beatbook user link-sso`: an existing account (made with a Beatbook password) is the
    person the provider knows by `subject`, so their records stay theirs. Committed."""
    from server.accounts.people import PeopleError

    found = settings()
    if found is None:
        raise PeopleError("Single sign-on is not set up (BEATBOOK_OIDC_ISSUER).")
    subject = subject.strip()
    if not subject or len(subject) > 255:
        raise PeopleError("Give the subject as the provider sends it (1-255 characters).")
    user = db.session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    if user is None:
        raise PeopleError(f"No user {username}.")
    holder = db.session.scalar(
        select(User).where(User.oidc_issuer == found.issuer, User.oidc_subject == subject)
    )
    if holder is not None and holder.id != user.id:
        raise PeopleError(f"That subject is already {holder.username}'s.")
    user.oidc_issuer, user.oidc_subject = found.issuer, subject
    add_entry(
        "link_sso",
        user_id=None,
        target_type="user",
        target_id=user.id,
        detail={"username": user.username, "subject": subject[:80]},
    )
    db.session.commit()
    return user
