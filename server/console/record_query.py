"""The logs page's filters: read from the URL, checked, and turned into SQL conditions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from werkzeug.datastructures import MultiDict

from server.catalogues import catalogues, vocabularies
from server.console.query_plan import Conditions, SetFilter, link_filter, text_filter
from server.db import db
from server.db.models import REVIEW_STATES, Record, RecordGroup, RecordStandard, Team
from server.records import codes
from server.web.timefmt import day_end_utc, day_start_utc

SHOW = ("live", "deleted", "all")
SORT_CHOICES = (("occurred", "When it happened"), ("received", "When it reached the server"))
# "resubmitted" is the console's word for a waiting record that was reviewed before (an
# officer's edit after a return or an approval sends it back as "pending", keeping the review's
# time): the stored state, which phones, the public pages and the assessment read, is unchanged.
RESUBMITTED = "resubmitted"
REVIEW_FILTERS = ("pending", RESUBMITTED, *(s for s in REVIEW_STATES if s != "pending"))


def shown_review(review_state: str, reviewed_at: object, deleted: bool = False) -> str:
    """The review state a supervisor sees: "" for a deleted record (nothing to review)."""
    if deleted:
        return ""
    if review_state == "pending" and reviewed_at is not None:
        return RESUBMITTED
    return review_state


@dataclass
class RecordFilter:
    """What the user asked for, checked; `errors` says what was ignored and why."""

    team: str = ""
    officer: str = ""
    date_from: str = ""
    date_to: str = ""
    kind: str = ""
    standard: str = ""
    group: str = ""
    review: str = ""
    conflict: str = ""
    pii: str = ""
    q: str = ""
    show: str = "live"
    sort: str = "occurred"
    errors: list[str] = field(default_factory=list)
    # Resolved values, filled by from_args.
    team_id: int | None = None
    officer_id: int | None = None
    day_from: date | None = None
    day_to: date | None = None

    URL_KEYS = (
        "q",
        "team",
        "officer",
        "date_from",
        "date_to",
        "kind",
        "standard",
        "group",
        "review",
        "conflict",
        "pii",
        "show",
        "sort",
    )

    @classmethod
    def from_args(cls, args: MultiDict, team_ids: set[int] | None) -> RecordFilter:
        found = cls(**{k: (args.get(k) or "").strip()[:200] for k in cls.URL_KEYS})
        found.show = found.show or "live"
        found.sort = found.sort or "occurred"
        found._check(team_ids)
        return found

    def _check(self, team_ids: set[int] | None) -> None:
        if self.team:
            team = db.session.scalar(sa.select(Team).where(Team.code == self.team.upper()))
            if team is None or (team_ids is not None and team.id not in team_ids):
                self._drop("team", f"No team {self.team} among the teams you supervise.")
            else:
                self.team, self.team_id = team.code, team.id
        if self.officer:
            # isascii and a length cap: ids are 32-bit, and "²" is a digit int() refuses.
            if self.officer.isascii() and self.officer.isdigit() and len(self.officer) <= 9:
                self.officer_id = int(self.officer)
            else:
                self._drop("officer", "Choose an officer from the list.")
        self.day_from = self._day("date_from")
        self.day_to = self._day("date_to")
        if self.day_from and self.day_to and self.day_from > self.day_to:
            self.errors.append("The 'from' date is after the 'to' date, so nothing can match.")
        vocab = vocabularies()
        if self.kind and self.kind not in vocab.kind_codes:
            self._drop("kind", f"Unknown kind {self.kind}.")
        if self.standard and self.standard not in standard_codes():
            self._drop("standard", f"Unknown standard {self.standard}.")
        if self.group and self.group not in vocab.group_codes:
            self._drop("group", f"Unknown group {self.group}.")
        if self.review and self.review not in REVIEW_FILTERS:
            self._drop("review", f"Unknown review state {self.review}.")
        if self.conflict not in ("", "yes"):
            self._drop("conflict", "Conflict filter is 'yes' or nothing.")
        if self.pii not in ("", "yes"):
            self._drop("pii", "Personal data filter is 'yes' or nothing.")
        if self.show not in SHOW:
            self.errors.append(f"Unknown choice {self.show}; showing live records.")
            self.show = "live"
        if self.sort not in dict(SORT_CHOICES):
            self.errors.append(f"Unknown order {self.sort}; newest by when it happened.")
            self.sort = "occurred"

    def _drop(self, key: str, message: str) -> None:
        setattr(self, key, "")
        self.errors.append(message)

    def _day(self, key: str) -> date | None:
        raw = getattr(self, key)
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            self._drop(key, f"{raw} is not a date (use YYYY-MM-DD).")
            return None

    def to_args(self) -> dict[str, str]:
        """The filter as URL parameters (empty ones left out), for links and the export."""
        args = {k: getattr(self, k) for k in self.URL_KEYS if getattr(self, k)}
        if args.get("show") == "live":
            del args["show"]
        if args.get("sort") == "occurred":
            del args["sort"]
        return args

    @property
    def active(self) -> bool:
        """Whether anything narrows the list (the order does not)."""
        return any(key != "sort" for key in self.to_args())

    @property
    def bulk_approvable(self) -> bool:
        """A list of live records waiting for review (new or resubmitted): one that can be
        approved at once."""
        return self.review in ("pending", RESUBMITTED) and self.show == "live"

    @property
    def narrowing(self) -> int:
        """How many filters besides the search box are on (to say so on a folded form)."""
        return sum(1 for key in self.to_args() if key not in ("q", "sort"))

    def conditions(self, team_ids: set[int] | None) -> Conditions:
        """The record's own column tests, and the filters that live in other indexes."""
        where: list[ColumnElement] = []
        if team_ids is not None:
            where.append(Record.team_id.in_(sorted(team_ids)) if team_ids else sa.false())
            # Restricted records are for admins (team_ids None) only.
            where.append(Record.restricted.is_(False))
        if self.team_id is not None:
            where.append(Record.team_id == self.team_id)
        if self.officer_id is not None:
            where.append(Record.officer_id == self.officer_id)
        if self.day_from:
            where.append(Record.occurred_at >= day_start_utc(self.day_from))
        if self.day_to:
            where.append(Record.occurred_at < day_end_utc(self.day_to))
        if self.kind:
            where.append(Record.kind == self.kind)
        if self.review == RESUBMITTED:
            where.append(Record.review_state == "pending")
            where.append(Record.reviewed_at.is_not(None))
        elif self.review:
            where.append(Record.review_state == self.review)
        if self.conflict == "yes":
            # The exact term the partial index ix_record_conflicted is defined with.
            where.append(Record.open_conflicts > 0)
        if self.pii == "yes":
            where.append(Record.pii_confirmed.is_(True))
        sets: list[SetFilter] = []
        if self.standard or self.group:
            codes.catch_up()  # these filters read record_standard and record_group
        if self.standard:
            sets.append(link_filter(RecordStandard, self.standard))
        if self.group:
            sets.append(link_filter(RecordGroup, self.group))
        if self.q and (match := text_filter(self.q)) is not None:
            sets.append(match)
        if self.show == "live":
            where.append(Record.deleted.is_(False))
        elif self.show == "deleted":
            where.append(Record.deleted.is_(True))
        return Conditions(where, sets)


def standard_codes() -> list[str]:
    codes: list[str] = []
    for catalogue in catalogues().versions:
        codes.extend(c for c in catalogue.codes if c not in codes)
    return codes
