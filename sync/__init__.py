"""Beatbook's sync engine: clocks, per-field merge and batch semantics. Standard library only."""

from .batch import BatchOutcome, apply_batch
from .errors import (
    ClockDriftError,
    CounterOverflowError,
    DuplicateNodeError,
    HLCFormatError,
    StaleWriteError,
    SyncError,
)
from .hlc import HLC, MAX_COUNTER, MAX_MILLIS, SERVER_NODE, correct
from .merge import DELETED, Change, Conflict, MergeOutcome, RecordState, json_equal, merge
from .results import ChangeResult, FieldErrors
from .store import (
    BatchWrites,
    ChangeKey,
    ConflictWrite,
    LogEntry,
    MemoryStore,
    OpenConflict,
    Owner,
    PulledRecord,
    PullPage,
    RecordWrite,
    Resolution,
    Review,
    ReviewWrite,
    Scope,
    Store,
)

__all__ = [
    "HLC", "MAX_COUNTER", "MAX_MILLIS", "SERVER_NODE", "correct",
    "DELETED", "Change", "Conflict", "MergeOutcome", "RecordState", "json_equal", "merge",
    "SyncError", "HLCFormatError", "ClockDriftError", "CounterOverflowError",
    "DuplicateNodeError", "StaleWriteError",
    "Store", "MemoryStore", "BatchWrites", "RecordWrite", "LogEntry", "ConflictWrite", "ChangeKey",
    "Owner", "Scope", "Review", "ReviewWrite", "Resolution", "OpenConflict", "PulledRecord",
    "PullPage", "apply_batch", "BatchOutcome", "ChangeResult", "FieldErrors",
]
