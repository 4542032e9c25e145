"""The Store protocol the engine and the server talk to, what it writes, and an in-memory
reference Store.

A Store is asked, per batch and once each: which `(record id, hlc)` keys it has seen, the
current state (and owner) of the touched records, and to save everything the batch decided, all
or nothing. Every write goes through `save`: a phone's changes, a supervisor's review and the
closing of a conflict. Each record a save touches gets the next sequence number, and `pull`
reads records in that order after a cursor. `server/sync/store.py` (`SqlStore`) is the database
implementation; `MemoryStore` is the reference. One contract suite runs against both
(tests/sync/store_contract.py).
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Hashable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from .errors import StaleWriteError
from .merge import Change, Conflict, RecordState
from .results import ChangeResult

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


@dataclass(frozen=True)
class ReviewWrite:
    """A supervisor's review of a record: approved, or returned to its officer with a comment."""

    record_id: str
    state: str  # approved | returned
    comment: str
    reviewer: Any  # the reviewing user's id in the Store's terms
    at_ms: int


@dataclass(frozen=True)
class Resolution:
    """The closing of an open conflict, saved with the change that writes the chosen value."""

    conflict_id: Any
    record_id: str
    value: Any
    hlc: str  # the stamp of the change that wrote the chosen value
    by: Any  # the resolving user's id
    at_ms: int


@dataclass
class BatchWrites:
    records: list[RecordWrite] = field(default_factory=list)
    changes: list[LogEntry] = field(default_factory=list)
    conflicts: list[ConflictWrite] = field(default_factory=list)
    # The answer to the push, one per change in request order (duplicates included), so a Store
    # can keep the response for a replay of the same batch in the same transaction.
    results: list[ChangeResult] = field(default_factory=list)
    reviews: list[ReviewWrite] = field(default_factory=list)
    resolutions: list[Resolution] = field(default_factory=list)

    def touched(self) -> list[str]:
        """Every record id the save moves (and so gives a new sequence number), in order."""
        ids = [w.state.id for w in self.records]
        ids += [r.record_id for r in self.reviews] + [r.record_id for r in self.resolutions]
        return list(dict.fromkeys(ids))


@dataclass(frozen=True)
class Owner:
    """Who a record belongs to: the officer who created it and the team it was made in."""

    officer_id: Any
    team_id: Any


@dataclass(frozen=True)
class Scope:
    """What a reader may pull: records of these teams (None: every team) and their own."""

    team_ids: frozenset[Hashable] | None
    officer_id: Any

    def sees(self, owner: Owner) -> bool:
        return (
            self.team_ids is None
            or owner.team_id in self.team_ids
            or owner.officer_id == self.officer_id
        )


@dataclass(frozen=True)
class Review:
    state: str  # pending | approved | returned
    comment: str
    at_ms: int | None


@dataclass(frozen=True)
class OpenConflict:
    id: Any
    field: str
    winner: dict[str, Any]
    loser: dict[str, Any]


@dataclass(frozen=True)
class PulledRecord:
    """A record as a pull hands it out: its state's parts, stamps, owner, review and open
    conflicts. `extra` carries what a particular Store adds for display (names, times)."""

    id: str
    rev: int
    seq: int
    deleted: bool
    fields: dict[str, Any]
    stamps: dict[str, str]  # field -> the stamp of its last write
    owner: Owner
    review: Review
    conflicts: list[OpenConflict]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PullPage:
    records: list[PulledRecord]
    cursor: int  # the seq to pull after next time
    more: bool


@runtime_checkable
class Store(Protocol):
    def seen(self, keys: Collection[ChangeKey]) -> dict[ChangeKey, ChangeResult]:
        """The first result of every key already in the change log. A Store may leave rejected
        changes out, so that one re-sent after a fix is judged afresh (SqlStore does)."""
        ...

    def load(self, ids: Collection[str]) -> dict[str, RecordState]:
        """Current states of the records that exist among `ids`."""
        ...

    def owner(self, record_id: str) -> Owner | None:
        """Who owns a record `load` returned in this batch (None for any other)."""
        ...

    def save(self, writes: BatchWrites) -> None:
        """Write everything or nothing; raise StaleWriteError if a record moved since load, a
        change is already in the log, or a resolution names a conflict that is not open."""
        ...

    def pull(self, after: int, limit: int, scope: Scope) -> PullPage:
        """Up to `limit` records `scope` may see whose sequence number is past `after`, in
        sequence order. A change saved later always gets a higher number than one saved
        before, so a reader that pulls from its last cursor never skips one."""
        ...


class MemoryStore:
    """The Store protocol on dictionaries. Record states are copied on the way in and out, like
    a database; log entries, conflicts and results are frozen values and kept as given.

    A record created without an owner set through `owners` belongs to officer None, team None."""

    def __init__(self) -> None:
        self.records: dict[str, RecordState] = {}
        self.log: list[LogEntry] = []
        self.conflicts: list[ConflictWrite] = []  # conflict id = index + 1
        self.closed: dict[int, Resolution] = {}
        self.responses: list[list[ChangeResult]] = []
        self.reviews: dict[str, Review] = {}
        self.owners: dict[str, Owner] = {}
        self.seq: dict[str, int] = {}
        self.counter = 0
        self.writer: Owner = Owner(None, None)  # who creates the records of the next save
        self._first: dict[ChangeKey, ChangeResult] = {}
        self._loaded: set[str] = set()

    def seen(self, keys: Collection[ChangeKey]) -> dict[ChangeKey, ChangeResult]:
        return {key: self._first[key] for key in keys if key in self._first}

    def load(self, ids: Collection[str]) -> dict[str, RecordState]:
        found = {i: _copy_state(self.records[i]) for i in ids if i in self.records}
        self._loaded.update(found)
        return found

    def owner(self, record_id: str) -> Owner | None:
        return self.owners.get(record_id) if record_id in self._loaded else None

    def save(self, writes: BatchWrites) -> None:
        self._check(writes)
        for write in writes.records:
            self.records[write.state.id] = _copy_state(write.state)
            if write.created:
                self.owners[write.state.id] = self.writer
                self.reviews[write.state.id] = Review("pending", "", None)
            elif write.state.id in self.reviews:  # an edit sends a reviewed record back
                review = self.reviews[write.state.id]
                self.reviews[write.state.id] = Review("pending", review.comment, review.at_ms)
        for entry in writes.changes:
            self.log.append(entry)
            self._first[entry.key] = entry.result
        self.conflicts.extend(writes.conflicts)
        for written in writes.reviews:
            self.reviews[written.record_id] = Review(written.state, written.comment, written.at_ms)
        for resolution in writes.resolutions:
            self.closed[resolution.conflict_id] = resolution
        for record_id in writes.touched():
            self.counter += 1
            self.seq[record_id] = self.counter
        self.responses.append(list(writes.results))
        self._loaded.clear()

    def _check(self, writes: BatchWrites) -> None:
        """Everything is checked before anything changes: all or nothing."""
        for write in writes.records:
            current = self.records.get(write.state.id)
            current_rev = current.rev if current is not None else None
            if current_rev != write.previous_rev:
                raise StaleWriteError(
                    f"record {write.state.id} is at rev {current_rev}, batch loaded "
                    f"{write.previous_rev}"
                )
        keys = [entry.key for entry in writes.changes]
        if len(set(keys)) != len(keys) or any(key in self._first for key in keys):
            raise StaleWriteError("change already in the log")
        for review in writes.reviews:
            if review.record_id not in self.records:
                raise StaleWriteError(f"no record {review.record_id} to review")
        for resolution in writes.resolutions:
            if not self._is_open(resolution.conflict_id, resolution.record_id):
                raise StaleWriteError(f"conflict {resolution.conflict_id} is not open")

    def _is_open(self, conflict_id: Any, record_id: str) -> bool:
        index = conflict_id - 1 if isinstance(conflict_id, int) else -1
        return (
            0 <= index < len(self.conflicts)
            and conflict_id not in self.closed
            and self.conflicts[index].record_id == record_id
        )

    def pull(self, after: int, limit: int, scope: Scope) -> PullPage:
        ids = sorted(
            (
                i
                for i, seq in self.seq.items()
                if seq > after and scope.sees(self.owners.get(i, Owner(None, None)))
            ),
            key=self.seq.__getitem__,
        )
        page = [self._pulled(i) for i in ids[:limit]]
        return PullPage(page, page[-1].seq if page else after, len(ids) > limit)

    def _pulled(self, record_id: str) -> PulledRecord:
        state = _copy_state(self.records[record_id])
        conflicts = [
            OpenConflict(n, c.conflict.field, dict(c.conflict.winner), dict(c.conflict.loser))
            for n, c in enumerate(self.conflicts, 1)
            if c.record_id == record_id and n not in self.closed
        ]
        return PulledRecord(
            state.id,
            state.rev,
            self.seq[record_id],
            state.deleted,
            state.fields,
            {name: m["hlc"] for name, m in state.meta.items()},
            self.owners.get(record_id, Owner(None, None)),
            self.reviews.get(record_id, Review("pending", "", None)),
            conflicts,
        )


def _copy_state(state: RecordState) -> RecordState:
    """A copy sharing nothing mutable with `state` (nested values copied only when present)."""
    fields = {
        name: copy.deepcopy(value) if isinstance(value, (dict, list)) else value
        for name, value in state.fields.items()
    }
    meta = {name: dict(m) for name, m in state.meta.items()}
    return RecordState(state.id, state.rev, fields, meta, state.deleted)
