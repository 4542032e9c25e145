"""The kinds of engagement, the groups reached and the categories of the public's concerns,
loaded from vocabularies.json."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

VOCABULARIES_FILE = Path(__file__).with_name("vocabularies.json")


@dataclass(frozen=True)
class Vocabularies:
    version: int
    kinds: tuple[dict[str, Any], ...]
    groups: tuple[dict[str, Any], ...]
    concern_categories: tuple[dict[str, Any], ...] = ()

    @property
    def kind_codes(self) -> frozenset[str]:
        return frozenset(k["code"] for k in self.kinds)

    @property
    def group_codes(self) -> frozenset[str]:
        return frozenset(g["code"] for g in self.groups)

    @property
    def concern_category_codes(self) -> frozenset[str]:
        return frozenset(c["code"] for c in self.concern_categories)

    @property
    def seldom_heard(self) -> frozenset[str]:
        return frozenset(g["code"] for g in self.groups if g["seldom_heard"])

    def kind(self, code: str) -> dict[str, Any] | None:
        return next((k for k in self.kinds if k["code"] == code), None)

    def title(self, code: str) -> str:
        found = self.kind(code) or next(
            (v for v in (*self.groups, *self.concern_categories) if v["code"] == code), None
        )
        return found["title"] if found else code


@lru_cache(maxsize=4)
def load_vocabularies(path: str | None = None) -> Vocabularies:
    raw = json.loads(Path(path or VOCABULARIES_FILE).read_text(encoding="utf-8"))
    return Vocabularies(
        raw["version"],
        tuple(raw["kinds"]),
        tuple(raw["groups"]),
        tuple(raw.get("concern_categories", ())),
    )
