"""Changing and resetting passwords, and deactivating accounts (issue 11 item 9).

- Anyone changes their own password by giving the current one (console page /console/password,
  which officers can use too: they have no console session).
- An admin resets anyone's password to a temporary one that must be changed before the next
  sign-in; the reset also ends the account's console sessions and revokes its device tokens.
- Deactivating an account of any role ends its console sessions and revokes its device tokens at
  once (the phones keep their queues and ask for a sign-in; reactivating does not revive them).
Each is written to the access log in the same transaction.
"""

from __future__ import annotations

from server.accounts.auth import check_password, hash_password
from server.accounts.people import MIN_PASSWORD, PeopleError
from server.accounts.sessions import end_user_sessions
from server.clock import utcnow
from server.db import db
from server.db.access_log import add_entry
from server.db.models import User
from server.errors import ApiError, Code

CHANGE_PAGE = "/console/password"


def check_new_password(user: User, new: str, confirm: str | None = None) -> None:
    if confirm is not None and new != confirm:
        raise PeopleError("The two new passwords are not the same.")
    if len(new) < MIN_PASSWORD:
        raise PeopleError(f"A password needs at least {MIN_PASSWORD} characters.")
    if new.strip().lower() == user.username.lower():
        raise PeopleError("A password cannot be the username.")


def change_password(
    user: User,
    current: str,
    new: str,
    confirm: str | None = None,
    *,
    keep_session: str | None = None,
) -> None:
    """Change a user's own password. Other console sessions end; devices stay signed in."""
    if not check_password(user, current):
        raise PeopleError("The current password is wrong.")
    check_new_password(user, new, confirm)
    if check_password(user, new):
        raise PeopleError("Choose a password different from the current one.")
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    end_user_sessions(user.id, "password_changed", keep=keep_session)
    add_entry("password_change", user_id=user.id, target_type="user", target_id=user.id)
    db.session.commit()


def reset_password(
    admin: User, user: User, temporary: str, *, session_id: str | None = None
) -> None:
    """An admin sets a temporary password; the user must change it at their next sign-in."""
    check_new_password(user, temporary)
    user.password_hash = hash_password(temporary)
    user.must_change_password = True
    user.password_changed_at = utcnow()
    end_user_sessions(user.id, "password_reset", revoke_devices=True, by_id=admin.id)
    add_entry(
        "password_reset",
        user_id=admin.id,
        target_type="user",
        target_id=user.id,
        detail={"username": user.username},
        session_id=session_id,
    )
    db.session.commit()


def set_active(
    actor: User | None,
    user: User,
    active: bool,
    *,
    session_id: str | None = None,
    reason: str | None = None,
) -> bool:
    """Deactivate (ending every session and device token now) or reactivate; False if unchanged.
    `reason` says why when no person did it (the identity provider: server/oidc/leavers.py)."""
    # A person's decision replaces the provider's: a deactivation by hand (even of an account
    # the provider already shut) is not undone by a later single sign-on, which reopens only
    # provider leavers (server/oidc/identity.py).
    held = actor is not None and user.oidc_left and not active and not user.active
    if actor is not None:
        user.oidc_left = False
    if user.active == active and not held:
        return False
    if actor is not None and actor.id == user.id and not active:
        raise PeopleError("You cannot deactivate your own account.")
    user.active = active
    if not active:
        end_user_sessions(
            user.id, "deactivated", revoke_devices=True, by_id=actor.id if actor else None
        )
    noun = "officer" if user.role == "officer" else "user"
    add_entry(
        f"{'activate' if active else 'deactivate'}_{noun}",
        user_id=actor.id if actor else None,
        target_type="user",
        target_id=user.id,
        detail={
            "username": user.username,
            "role": user.role,
            **({"reason": reason} if reason else {}),
        },
        session_id=session_id,
    )
    db.session.commit()
    return True


def refuse_until_password_changed(user: User) -> None:
    """A device sign-in by someone whose password was reset: send them to choose a new one."""
    if user.must_change_password:
        raise ApiError(
            Code.PASSWORD_CHANGE_REQUIRED,
            f"Your password was reset. Choose a new one at {CHANGE_PAGE} on this server, "
            "then sign in with it.",
        )
