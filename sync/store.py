"""The Store protocol `apply_batch` talks to, what it writes, and an in-memory reference Store.

A Store is asked three things per batch, once each: which `(record id, hlc)` keys it has seen,
the current state of the touched records, and to save everything the batch decided, all or
nothing. `server/store.py` (`SqlStore`) is the database implementation; `MemoryStore` is the
reference the tests run against.
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from .errors import StaleWriteError
from .merge import Change, Conflict, RecordState

if TYPE_CHECKING:  # batch.py imports this module; the annotation alone needs ChangeResult
    from .batch import ChangeResult

ChangeKey = tuple[str, str]  # (record id, original hlc): the identity of a change


@dataclass(frozen=True)
class RecordWrite:
    """A record's state after the batch, with who and when of its last write."""

    state: RecordState
    previous_rev: int | None  # the rev the batch loaded; None when the batch creates the record
    hlc: str  # original stamp of the last change that wrote it: its node is the device
    changed_ms: int  # server time of the write

    @property
    def created(self) -> bool:
        return self.previous_rev is None


@dataclass(frozen=True)
class LogEntry:
    """One row of the append-only change log: every change received, rejected ones included."""

    change: Change
    effective_hlc: str | None  # the corrected stamp; None when the change was rejected first
    result: ChangeResult
    changed_fields: list[str]
    received_ms: int
    skew_ms: int

    @property
    def key(self) -> ChangeKey:
        return (self.change.id, self.change.hlc)


@dataclass(frozen=True)
class ConflictWrite:
    """A conflict to open for a supervisor, with the record rev and change that produced it."""

    record_id: str
    rev: int
    hlc: str  # original stamp of the change whose merge found the conflict
    conflict: Conflict


@dataclass
class BatchWrites:
    records: list[RecordWrite] = field(default_factory=list)
    changes: list[LogEntry] = field(default_factory=list)
    conflicts: list[ConflictWrite] = field(default_factory=list)
    # The answer to the push, one per change in request order (duplicates included), so a Store
    # can keep the response for a replay of the same batch in the same transaction.
    results: list[ChangeResult] = field(default_factory=list)


@runtime_checkable
class Store(Protocol):
    def seen(self, keys: Collection[ChangeKey]) -> dict[ChangeKey, ChangeResult]:
        """The first result of every key already in the change log."""
        ...

    def load(self, ids: Collection[str]) -> dict[str, RecordState]:
        """Current states of the records that exist among `ids`."""
        ...

    def save(self, writes: BatchWrites) -> None:
        """Write everything or nothing; raise StaleWriteError if a record moved since load."""
        ...


class MemoryStore:
    """The Store protocol on dictionaries. Record states are copied on the way in and out, like
    a database; log entries, conflicts and results are frozen values and kept as given."""

    def __init__(self) -> None:
        self.records: dict[str, RecordState] = {}
        self.log: list[LogEntry] = []
        self.conflicts: list[ConflictWrite] = []
        self.responses: list[list[ChangeResult]] = []
        self._first: dict[ChangeKey, ChangeResult] = {}

    def seen(self, keys: Collection[ChangeKey]) -> dict[ChangeKey, ChangeResult]:
        return {key: self._first[key] for key in keys if key in self._first}

    def load(self, ids: Collection[str]) -> dict[str, RecordState]:
        return {i: _copy_state(self.records[i]) for i in ids if i in self.records}

    def save(self, writes: BatchWrites) -> None:
        # Check everything before changing anything: all or nothing.
        for write in writes.records:
            current = self.records.get(write.state.id)
            current_rev = current.rev if current is not None else None
            if current_rev != write.previous_rev:
                raise StaleWriteError(
                    f"record {write.state.id} is at rev {current_rev}, batch loaded "
                    f"{write.previous_rev}")
        keys = [entry.key for entry in writes.changes]
        if len(set(keys)) != len(keys) or any(key in self._first for key in keys):
            raise StaleWriteError("change already in the log")
        for write in writes.records:
            self.records[write.state.id] = _copy_state(write.state)
        for entry in writes.changes:
            self.log.append(entry)
            self._first[entry.key] = entry.result
        self.conflicts.extend(writes.conflicts)
        self.responses.append(list(writes.results))


def _copy_state(state: RecordState) -> RecordState:
    """A copy sharing nothing mutable with `state` (nested values copied only when present)."""
    fields = {name: copy.deepcopy(value) if isinstance(value, (dict, list)) else value
              for name, value in state.fields.items()}
    meta = {name: dict(m) for name, m in state.meta.items()}
    return RecordState(state.id, state.rev, fields, meta, state.deleted)
