"""Builders shared by the sync tests (imported as a plain module from this directory)."""

from __future__ import annotations

from typing import Any

from sync import HLC, Change, RecordState, merge

T = 1_764_063_000_000
A = "3f2a9c0d4e5b6a7c8d9e0f1a2b3c4d5e"
B = "b7c1d2e3f4a5968778695a4b3c2d1e0f"
C = "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c"
REC = "rec-1"


def stamp(ms: int, node: str = A, counter: int = 0) -> str:
    return str(HLC(ms, counter, node))


def up(hlc: str, base_rev: int | None, rid: str = REC, **data: Any) -> Change:
    return Change(rid, "upsert", hlc, base_rev, data)


def delete(hlc: str, base_rev: int | None, rid: str = REC) -> Change:
    return Change(rid, "delete", hlc, base_rev, {})


def apply(state: RecordState | None, change: Change, hlc: str | None = None):
    """Merge with the change's own stamp as the effective one and the next rev."""
    return merge(state, change, hlc or change.hlc, state.rev + 1 if state else 1)


def created(**fields: Any) -> RecordState:
    """A record created by device A at T with `fields` (rev 1)."""
    return apply(None, up(stamp(T), None, **fields)).state
