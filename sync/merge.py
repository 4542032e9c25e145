"""Per-field merge of one change into one record (twin of `pwa/js/merge.js`).

Pinned by `tests/vectors/merge.json`. The rules are those of `docs/architecture.md`
("Records and merge"); the choices the contract leaves open are decided here:

- A field is "written" when its value or its stamp changes; only then does its meta rev move
  to `new_rev`. The record's rev moves to `new_rev` only when something changed (a written field,
  the deleted flag, or a conflict); an upsert that changes nothing keeps the old rev and returns
  empty `changed_fields`. `new_rev` is the rev the caller proposes (normally `state.rev + 1`).
- A write of an equal value still advances the field stamp (max of old and new): later
  concurrent writers must be compared against it, or delivery order would change the winner.
- A delete concurrent with field edits it had not seen (a field meta rev > base_rev on a live
  record), and an upsert with data concurrent with a delete (base_rev < meta._deleted.rev on a
  tombstone), both keep the record deleted and record a conflict on `_deleted`: winner
  `{True, <the delete's stamp>}`, loser `{False, <the edit's stamp>}`; for a delete after unseen
  edits, the edit stamp is the latest stamp among the unseen field writes. A tombstone wins over
  concurrent edits in either order, so delivery order cannot decide whether a record exists.
- An upsert without data edits nothing, so it never conflicts: on a tombstone whose deletion it
  saw it is a pure restore, and a delete concurrent with such a restore does not conflict either
  (only unseen *field* writes count), which keeps both delivery orders alike.
- A delete always writes `_deleted` (meta rev `new_rev`, stamp the later of old and new), even
  on a tombstone, so that upserts which did not see it are concurrent with it (otherwise a
  restore could win in one delivery order and lose in the other). A delete of a tombstone never
  conflicts: edits it might not have seen already conflicted with the first delete.
- A delete of a record that does not exist makes an empty tombstone (merge is total; `apply_batch`
  rejects such deletes before merging).
- Values are JSON values: `json_equal` treats `true` and `1` as different and `1` and `1.0` as
  equal, as JavaScript does after `JSON.parse`.
- `conflicts` and `changed_fields` are sorted by field name (code point order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

DELETED = "_deleted"
UPSERT = "upsert"
DELETE = "delete"
OPS = (UPSERT, DELETE)

Status = Literal["applied", "merged", "conflict"]
FieldMeta = dict[str, Any]  # {"hlc": str, "rev": int}


@dataclass(frozen=True)
class RecordState:
    id: str
    rev: int
    fields: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, FieldMeta] = field(default_factory=dict)
    deleted: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rev": self.rev,
            "fields": dict(self.fields),
            "meta": {name: dict(m) for name, m in self.meta.items()},
            "deleted": self.deleted,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RecordState:
        return cls(
            id=data["id"],
            rev=data["rev"],
            fields=dict(data["fields"]),
            meta={name: dict(m) for name, m in data["meta"].items()},
            deleted=data["deleted"],
        )


@dataclass(frozen=True)
class Change:
    id: str
    op: str
    hlc: str
    base_rev: int | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "op": self.op,
            "hlc": self.hlc,
            "base_rev": self.base_rev,
            "data": dict(self.data),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Change:
        return cls(
            id=data["id"],
            op=data["op"],
            hlc=data["hlc"],
            base_rev=data.get("base_rev"),
            data=dict(data.get("data") or {}),
        )


@dataclass(frozen=True)
class Conflict:
    """Two concurrent values of one field; `winner` and `loser` are `{"value", "hlc"}`."""

    field: str
    winner: dict[str, Any]
    loser: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "winner": dict(self.winner), "loser": dict(self.loser)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Conflict:
        return cls(data["field"], dict(data["winner"]), dict(data["loser"]))


@dataclass(frozen=True)
class MergeOutcome:
    state: RecordState
    status: Status
    conflicts: list[Conflict]
    changed_fields: list[str]

    @property
    def changed(self) -> bool:
        """Whether the record must be written (and its rev was bumped)."""
        return bool(self.changed_fields or self.conflicts)


def json_equal(a: Any, b: Any) -> bool:
    """Equality of JSON values: bools are not numbers; 1 == 1.0; objects ignore key order."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if type(a) is not type(b):
        return False
    return bool(a == b)


def _side(value: Any, hlc: str) -> dict[str, Any]:
    return {"value": value, "hlc": hlc}


def merge(
    state: RecordState | None, change: Change, effective_hlc: str, new_rev: int
) -> MergeOutcome:
    """Merge `change`, stamped `effective_hlc`, into `state`. Pure: inputs are never mutated."""
    if change.op not in OPS:
        raise ValueError(f"unknown op {change.op!r}")
    if state is None:
        return _create(change, effective_hlc, new_rev)

    base = change.base_rev or 0
    # Shallow copies: merge replaces meta entries and never mutates one, so the new state may
    # share the unchanged entries (and values) with the old one. Treat states as values.
    fields = dict(state.fields)
    meta = dict(state.meta)
    # Anything written at a rev the device had not seen makes this change concurrent.
    concurrent = any(m["rev"] > base for m in state.meta.values())
    conflicts: list[Conflict] = []
    changed: list[str] = []
    deleted = state.deleted

    if change.op == DELETE:
        unseen = [m["hlc"] for name, m in state.meta.items() if name != DELETED and m["rev"] > base]
        if not state.deleted and unseen:
            # Field edits the deleter never saw: the tombstone wins, the edits are the loser.
            conflicts.append(
                Conflict(DELETED, _side(True, effective_hlc), _side(False, max(unseen)))
            )
        # Always a write, even on a tombstone: an upsert that did not see this delete must
        # find it concurrent, or a restore could win in one delivery order and lose in another.
        old = meta.get(DELETED)
        meta[DELETED] = {
            "hlc": effective_hlc if old is None else max(old["hlc"], effective_hlc),
            "rev": new_rev,
        }
        changed.append(DELETED)
        deleted = True
    else:
        if state.deleted:
            deleted_meta = meta.get(DELETED) or {"hlc": effective_hlc, "rev": 0}
            if base >= deleted_meta["rev"]:
                # The device saw the deletion and edits anyway: a restore.
                meta[DELETED] = {"hlc": max(deleted_meta["hlc"], effective_hlc), "rev": new_rev}
                changed.append(DELETED)
                deleted = False
            elif change.data:
                # The edit never saw the deletion: keep its values in the tombstone and let a
                # supervisor decide whether to restore.
                conflicts.append(
                    Conflict(DELETED, _side(True, deleted_meta["hlc"]), _side(False, effective_hlc))
                )
        for name in sorted(change.data):
            if _merge_field(
                name, change.data[name], fields, meta, base, effective_hlc, new_rev, conflicts
            ):
                changed.append(name)

    if not changed and not conflicts:
        status: Status = "merged" if concurrent else "applied"
        return MergeOutcome(state, status, [], [])
    status = "conflict" if conflicts else "merged" if concurrent else "applied"
    conflicts.sort(key=lambda c: c.field)
    new_state = RecordState(state.id, new_rev, fields, meta, deleted)
    return MergeOutcome(new_state, status, conflicts, sorted(changed))


def _create(change: Change, effective_hlc: str, new_rev: int) -> MergeOutcome:
    if change.op == DELETE:
        state = RecordState(
            change.id, new_rev, {}, {DELETED: {"hlc": effective_hlc, "rev": new_rev}}, True
        )
        return MergeOutcome(state, "applied", [], [DELETED])
    names = sorted(change.data)
    stamp = {"hlc": effective_hlc, "rev": new_rev}  # shared: meta entries are never mutated
    state = RecordState(
        change.id,
        new_rev,
        {name: change.data[name] for name in names},
        dict.fromkeys(names, stamp),
        False,
    )
    return MergeOutcome(state, "applied", [], names)


def _merge_field(
    name: str,
    value: Any,
    fields: dict[str, Any],
    meta: dict[str, FieldMeta],
    base: int,
    hlc: str,
    new_rev: int,
    conflicts: list[Conflict],
) -> bool:
    """Merge one field into the working copies; return whether its value or stamp changed."""
    old = meta.get(name)
    if old is None or name not in fields:
        fields[name] = value
        meta[name] = {"hlc": hlc, "rev": new_rev}
        return True
    stored = fields[name]
    if old["rev"] <= base:
        # Sequential: the device saw the stored value, so its write wins whatever the clocks
        # say; the stamp never moves backwards.
        stamp = max(old["hlc"], hlc)
        if json_equal(stored, value) and stamp == old["hlc"]:
            return False
        fields[name] = value
        meta[name] = {"hlc": stamp, "rev": new_rev}
        return True
    # Concurrent: last writer wins by stamp, and a differing loser is kept in a conflict.
    same = json_equal(stored, value)
    if hlc > old["hlc"]:
        if not same:
            conflicts.append(Conflict(name, _side(value, hlc), _side(stored, old["hlc"])))
        fields[name] = value
        meta[name] = {"hlc": hlc, "rev": new_rev}
        return True
    if not same:
        conflicts.append(Conflict(name, _side(stored, old["hlc"]), _side(value, hlc)))
    return False
