"""What a batch answers for each change (shared by the batch and the Store it saves through)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .merge import Conflict

FieldErrors = dict[str, list[str]]


@dataclass(frozen=True)
class ChangeResult:
    id: str
    hlc: str
    status: str  # applied | merged | conflict | duplicate | rejected
    rev: int | None  # the record's rev after this change (None: no such record)
    errors: FieldErrors | None = None
    conflicts: list[Conflict] = field(default_factory=list)
    # On a duplicate, the status of the first result (not part of the wire format).
    first_status: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The wire form: `errors` and `conflicts` only when there are some."""
        out: dict[str, Any] = {
            "id": self.id,
            "hlc": self.hlc,
            "status": self.status,
            "rev": self.rev,
        }
        if self.errors:
            out["errors"] = {name: list(msgs) for name, msgs in self.errors.items()}
        if self.conflicts:
            out["conflicts"] = [c.to_dict() for c in self.conflicts]
        return out
