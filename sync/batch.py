"""Apply one push: dedupe, check, merge in request order, and save once.

Per-change problems (a bad stamp, an unknown op, a forbidden record, invalid fields) never raise:
they become `rejected` results with field errors, are kept in the change log, and the rest of
the batch applies. Exceptions from the Store or from the `validate`/`authorize` hooks propagate,
and then nothing of the batch is saved.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from .errors import HLCFormatError
from .hlc import HLC, correct
from .merge import DELETE, OPS, Change, RecordState, merge
from .results import ChangeResult, FieldErrors
from .store import (
    BatchWrites,
    ChangeKey,
    ConflictWrite,
    LogEntry,
    RecordWrite,
    Resolution,
    Store,
)

Validate = Callable[[Change, RecordState | None], FieldErrors | None]
Authorize = Callable[[Change, RecordState | None], str | None]


@dataclass(frozen=True)
class BatchOutcome:
    results: list[ChangeResult]
    writes: BatchWrites


def apply_batch(
    store: Store,
    changes: Sequence[Change],
    *,
    now_ms: int,
    skew_ms: int,
    validate: Validate,
    authorize: Authorize,
    resolutions: Sequence[Resolution] = (),
) -> BatchOutcome:
    """Apply `changes` in order; calls `store.seen`, `store.load` and `store.save` once each.

    `resolutions` close conflicts in the same save (a supervisor's chosen value is a change of
    the batch, and the conflict it settles closes with it, all or nothing)."""
    keys = [_key(change) for change in changes]
    first_index: dict[ChangeKey, int] = {}
    for i, key in enumerate(keys):
        if key is not None:
            first_index.setdefault(key, i)
    seen = store.seen(list(first_index))

    fresh = [
        i
        for i, key in enumerate(keys)
        if key is None or (first_index[key] == i and key not in seen)
    ]
    ids = {changes[i].id for i in fresh if isinstance(changes[i].id, str)}
    loaded = store.load(ids)

    run = _Run(dict(loaded), now_ms, skew_ms, validate, authorize)
    results: list[ChangeResult] = []
    for i, (change, key) in enumerate(zip(changes, keys)):
        if key is not None and key in seen:
            results.append(_duplicate(seen[key]))
        elif key is not None and first_index[key] != i:
            results.append(_duplicate(results[first_index[key]]))
        else:
            results.append(run.apply(change))

    records = [
        RecordWrite(run.current[rid], loaded[rid].rev if rid in loaded else None, hlc, now_ms)
        for rid, hlc in run.last_writer.items()
    ]
    writes = BatchWrites(records, run.log, run.conflicts, results, resolutions=list(resolutions))
    store.save(writes)
    return BatchOutcome(results, writes)


def _key(change: Change) -> ChangeKey | None:
    if isinstance(change.id, str) and isinstance(change.hlc, str):
        return (change.id, change.hlc)
    return None  # cannot be deduplicated; it is rejected by the shape check


def _duplicate(first: ChangeResult) -> ChangeResult:
    if first.status == "duplicate":
        return first
    return replace(first, status="duplicate", first_status=first.status)


class _Run:
    """The working state of one batch: records as merged so far, and what to write."""

    def __init__(
        self,
        current: dict[str, RecordState],
        now_ms: int,
        skew_ms: int,
        validate: Validate,
        authorize: Authorize,
    ) -> None:
        self.current = current
        self.now_ms = now_ms
        self.skew_ms = skew_ms
        self.validate = validate
        self.authorize = authorize
        self.last_writer: dict[str, str] = {}  # record id -> hlc of its last write, in order
        self.log: list[LogEntry] = []
        self.conflicts: list[ConflictWrite] = []

    def apply(self, change: Change) -> ChangeResult:
        stamp, errors = _check_shape(change)
        if stamp is None or errors:
            return self._reject(change, errors)
        existing = self.current.get(change.id)
        if change.op == DELETE and existing is None:
            return self._reject(change, {"_record": ["No such record."]})
        message = self.authorize(change, existing)
        if message:
            return self._reject(change, {"_record": [message]})
        invalid = self.validate(change, existing)
        if invalid:
            return self._reject(change, invalid)

        effective = str(correct(stamp, self.skew_ms, self.now_ms))
        outcome = merge(existing, change, effective, existing.rev + 1 if existing else 1)
        if outcome.changed:
            # Later changes to this record in the same batch merge on top of this one.
            self.current[change.id] = outcome.state
            self.last_writer[change.id] = change.hlc
        for conflict in outcome.conflicts:
            self.conflicts.append(ConflictWrite(change.id, outcome.state.rev, change.hlc, conflict))
        result = ChangeResult(
            change.id, change.hlc, outcome.status, outcome.state.rev, None, list(outcome.conflicts)
        )
        self._log(change, effective, result, outcome.changed_fields)
        return result

    def _reject(self, change: Change, errors: FieldErrors) -> ChangeResult:
        existing = self.current.get(change.id) if isinstance(change.id, str) else None
        result = ChangeResult(
            change.id,
            change.hlc,
            "rejected",
            existing.rev if existing else None,
            {name: list(msgs) for name, msgs in errors.items()},
        )
        self._log(change, None, result, [])
        return result

    def _log(
        self, change: Change, effective: str | None, result: ChangeResult, changed_fields: list[str]
    ) -> None:
        self.log.append(
            LogEntry(change, effective, result, changed_fields, self.now_ms, self.skew_ms)
        )


def _check_shape(change: Change) -> tuple[HLC | None, FieldErrors]:
    """Errors the engine itself cannot merge past; the schema's checks come via `validate`."""
    errors: FieldErrors = {}
    if not isinstance(change.id, str) or not change.id:
        errors["id"] = ["Must be a non-empty string."]
    if change.op not in OPS:
        errors["op"] = [f"Must be one of: {', '.join(OPS)}."]
    stamp = None
    try:
        stamp = HLC.parse(change.hlc)
    except HLCFormatError:
        errors["hlc"] = ["Not a stamp: <15-digit millis>-<5-digit counter>-<node>."]
    base = change.base_rev
    if base is not None and (type(base) is not int or base < 0):
        errors["base_rev"] = ["Must be null or a non-negative integer."]
    if not isinstance(change.data, dict):
        errors["data"] = ["Must be an object."]
    elif change.op == DELETE and change.data:
        errors["data"] = ["A delete carries no data."]
    else:
        for name in change.data:
            if not isinstance(name, str) or not name or name.startswith("_"):
                errors[str(name)] = ["Not a writable field name."]
    return stamp, errors
