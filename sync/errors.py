"""Exceptions raised by the sync engine.

Everything derives from `SyncError`, so callers can catch the engine's errors in one place.
Per-change problems inside a batch are never raised: `apply_batch` turns them into `rejected`
results. These exceptions are for clocks and stores.
"""

from __future__ import annotations


class SyncError(Exception):
    """Base class of every error the sync engine raises."""


class HLCFormatError(SyncError, ValueError):
    """A stamp string or stamp component is not a valid hybrid logical clock value."""


class ClockDriftError(SyncError):
    """A remote stamp is further ahead of our wall clock than we tolerate."""

    def __init__(self, remote_millis: int, now_ms: int, max_drift_ms: int) -> None:
        self.remote_millis = remote_millis
        self.now_ms = now_ms
        self.max_drift_ms = max_drift_ms
        super().__init__(
            f"remote clock is {remote_millis - now_ms} ms ahead (limit {max_drift_ms} ms)"
        )


class CounterOverflowError(SyncError):
    """More than 99999 stamps within one millisecond: the string form cannot hold the counter."""


class DuplicateNodeError(SyncError):
    """A remote stamp carries our own node id, so two clocks share a device id."""


class StaleWriteError(SyncError):
    """`Store.save` found a record at a different rev than the batch loaded (a lost update)."""
