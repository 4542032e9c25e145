"""A change the server writes itself (a console edit of a priority, a conflict's resolution),
through the sync engine like a phone's: the merge, the change log and a new seq come with it.

The caller has checked who may write and what is written; nothing is left half-written: any
error or refusal rolls the session back, and the caller commits an applied change.
"""

from __future__ import annotations

from collections.abc import Sequence

from server.db import AnySession
from server.sync.store import SqlStore
from sync import Change, Resolution, apply_batch
from sync.results import ChangeResult


def _accepted(change: Change, existing: object) -> None:
    return None


def apply_server_change(
    session: AnySession,
    store: SqlStore,
    change: Change,
    at_ms: int,
    resolutions: Sequence[Resolution] = (),
) -> ChangeResult:
    """Apply `change` at server time `at_ms`; a rejected result has rolled the session back."""
    try:
        outcome = apply_batch(
            store,
            [change],
            now_ms=at_ms,
            skew_ms=0,
            validate=_accepted,
            authorize=_accepted,
            resolutions=resolutions,
        )
    except Exception:
        session.rollback()
        raise
    result = outcome.results[0]
    if result.status == "rejected":
        session.rollback()
    return result
