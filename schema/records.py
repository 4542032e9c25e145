"""The engagement record: its marshmallow schema, limits, and upgrades from older app versions.

Records are evidence, not intelligence: no field asks for a member of the public's name. Officer,
team, rev and review state are the server's and are never read from a payload.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates_schema,
)

from schema.fast import Convert, Loader, Unsure, compile_loader
from schema.vocabularies import Vocabularies
from schema.wire import UUID

SCHEMA_VERSION = 2
FUTURE_TOLERANCE = timedelta(minutes=10)
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
TEXT_MAX = 4000
SHORT_MAX = 200
LABEL_MAX = 120
CONCERN_MAX = 120
PRIORITY = "local_priority"  # the kind whose records are the team's local priorities
PRIORITY_STATUSES = ("open", "in_progress", "resolved", "closed")
ENDED = ("resolved", "closed")
# Fields only a local priority carries (docs/standards.md, "The priority loop").
PRIORITY_FIELDS = (
    "title",
    "priority_status",
    "closed_reason",
    "closed_on",
    "review_by",
    "owner_id",
    "meeting_id",
    "concern_record_ids",
)
DAY = validate.Regexp(r"^\d{4}-\d{2}-\d{2}$", error="Must be a date, YYYY-MM-DD.")


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """Bring a record from an older app version up to SCHEMA_VERSION.

    Version 1 (the first field app) called the people count `people` and the follow-up `notes`.
    A phone still running yesterday's cached app must sync, so the server renames them.
    """
    version = data.get("schema_version", SCHEMA_VERSION)
    if not isinstance(version, int) or version >= SCHEMA_VERSION or version < 1:
        return data  # current, or left for validation to reject with a clear message
    data = dict(data)
    if version == 1:
        if "people" in data:
            data.setdefault("people_count", data.pop("people"))
        if "notes" in data:
            data.setdefault("follow_up", data.pop("notes"))
    data["schema_version"] = SCHEMA_VERSION
    return data


class AwareDateTime(fields.AwareDateTime):
    """An ISO 8601 time with an offset, stored as UTC ISO text."""

    # marshmallow types this field as loading a datetime; this one loads the text instead.
    def _deserialize(  # type: ignore[override]
        self, value: object, attr: str | None, data: Mapping[str, Any] | None, **kwargs: object
    ) -> str:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        try:
            return parsed.astimezone(timezone.utc).isoformat()
        except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 has no UTC time
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE) from None


def _fast_aware_datetime(field: fields.Field[Any]) -> Convert:
    """AwareDateTime's fast path: marshmallow's own ISO parse, aware only, to UTC ISO text."""
    if (
        not isinstance(field, AwareDateTime)
        or field.format not in ("iso", "iso8601")
        or field.default_timezone is not None
    ):
        raise TypeError("no fast path for this AwareDateTime's options")

    def convert(value: object) -> str:
        if type(value) is not str:
            raise Unsure
        try:
            parsed = datetime.fromisoformat(value)
            if parsed.utcoffset() is None:
                raise Unsure
            return parsed.astimezone(timezone.utc).isoformat()
        except (ValueError, OverflowError):
            raise Unsure from None

    return convert


class LocationSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    lat = fields.Float(required=True, validate=validate.Range(-90, 90), allow_nan=False)
    lon = fields.Float(required=True, validate=validate.Range(-180, 180), allow_nan=False)
    accuracy_m = fields.Float(
        load_default=None, allow_none=True, validate=validate.Range(0, 100_000), allow_nan=False
    )


class ConcernSchema(Schema):
    """A concern someone raised: a category and a short phrase, never a person's name."""

    class Meta:
        unknown = "raise"

    category = fields.String(required=True)
    phrase = fields.String(load_default="", validate=validate.Length(max=CONCERN_MAX))


def _record_id(label: str) -> fields.String:
    return fields.String(allow_none=True, validate=UUID, metadata={"label": label})


def _day(label: str) -> fields.String:
    return fields.String(allow_none=True, validate=DAY, metadata={"label": label})


class EngagementSchema(Schema):
    """Validates what a device sends for a record: all fields on create, some on edit (partial)."""

    class Meta:
        unknown = "raise"
        ordered = True

    schema_version = fields.Integer(
        validate=validate.Equal(SCHEMA_VERSION, error="Unsupported schema version."),
        metadata={"label": "App record version"},
    )
    occurred_at = AwareDateTime(
        required=True, default_timezone=None, metadata={"label": "When it happened"}
    )
    kind = fields.String(required=True, metadata={"label": "Kind"})
    standards = fields.List(
        fields.String(),
        load_default=list,
        validate=validate.Length(max=20),
        metadata={"label": "Standards"},
    )
    place = fields.String(
        load_default="", validate=validate.Length(max=SHORT_MAX), metadata={"label": "Place"}
    )
    location = fields.Nested(
        LocationSchema, allow_none=True, load_default=None, metadata={"label": "Map position"}
    )
    duration_minutes = fields.Integer(
        allow_none=True,
        load_default=None,
        validate=validate.Range(0, 24 * 60),
        strict=True,
        metadata={"label": "Duration (minutes)"},
    )
    people_count = fields.Integer(
        allow_none=True,
        load_default=None,
        validate=validate.Range(0, 100_000),
        strict=True,
        metadata={"label": "People engaged"},
    )
    groups = fields.List(
        fields.String(),
        load_default=list,
        validate=validate.Length(max=30),
        metadata={"label": "Groups reached"},
    )
    summary = fields.String(
        required=True, validate=validate.Length(min=1, max=TEXT_MAX), metadata={"label": "Summary"}
    )
    follow_up = fields.String(
        load_default="", validate=validate.Length(max=TEXT_MAX), metadata={"label": "Follow-up"}
    )
    publicised_at = AwareDateTime(
        allow_none=True, load_default=None, default_timezone=None, metadata={"label": "Publicised"}
    )
    contact_role = fields.String(
        load_default="",
        validate=validate.Length(max=LABEL_MAX),
        metadata={"label": "Contact's role"},
    )
    contact_org = fields.String(
        load_default="",
        validate=validate.Length(max=LABEL_MAX),
        metadata={"label": "Contact's organisation"},
    )
    public = fields.Boolean(
        load_default=False,
        truthy={True},
        falsy={False},
        metadata={"label": "Shared on the team's public page"},
    )
    # The app flagged the free text as looking like personal data (schema/pii.py) and the
    # officer kept it: the record goes to the supervisor's review queue marked so.
    pii_confirmed = fields.Boolean(
        load_default=False,
        truthy={True},
        falsy={False},
        metadata={"label": "Kept despite a personal data warning"},
    )

    # The priority loop (issue 15). No load_default: a record that does not use them carries
    # none of them, so older records and phones are unchanged.
    concerns = fields.List(
        fields.Nested(ConcernSchema),
        validate=validate.Length(max=20),
        metadata={"label": "Concerns raised"},
    )
    priority_id = _record_id("For local priority")
    title = fields.String(
        validate=validate.Length(max=SHORT_MAX),
        metadata={"label": "Priority (as the public reads it)"},
    )
    priority_status = fields.String(
        validate=validate.OneOf(PRIORITY_STATUSES, error="Must be one of: {choices}."),
        metadata={"label": "Priority status"},
    )
    closed_reason = fields.String(
        validate=validate.Length(max=TEXT_MAX), metadata={"label": "Why closed without action"}
    )
    closed_on = _day("Ended on")
    review_by = _day("Review by")
    owner_id = fields.Integer(allow_none=True, strict=True, metadata={"label": "Owner"})
    meeting_id = _record_id("Set at meeting")
    concern_record_ids = fields.List(
        fields.String(validate=UUID),
        validate=validate.Length(max=50),
        metadata={"label": "Records whose concerns are behind it"},
    )

    def __init__(
        self,
        *,
        vocabularies: Vocabularies,
        standard_codes: Iterable[str],
        now: datetime,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.vocabularies = vocabularies
        self.standard_codes = frozenset(standard_codes)
        self.kind_codes = vocabularies.kind_codes  # built once: the properties build a new set
        self.group_codes = vocabularies.group_codes
        self.concern_codes = vocabularies.concern_category_codes
        self.now = now
        self._fast: Loader | None = None

    @property
    def edit_fields(self) -> tuple[str, ...]:
        """The fields an edit may leave out: top-level ones only, so a sent location is whole."""
        return tuple(self.fields)

    def load_partial(self, data: dict[str, Any]) -> dict[str, Any]:
        """`self.load(data, partial=self.edit_fields)`: a change's fields, fast path when it can.

        The fast path (schema/fast.py) is derived from these fields; it decides only input it
        can decide exactly and leaves the rest, and every error message, to marshmallow.
        """
        try:
            return self._load_fast(data)
        except Unsure:
            loaded: dict[str, Any] = self.load(data, partial=self.edit_fields)
            return loaded

    def _load_fast(self, data: dict[str, Any]) -> dict[str, Any]:
        if self._fast is None:
            self._fast = compile_loader(
                self,
                partial=True,
                custom={AwareDateTime: _fast_aware_datetime},
                replicated_hooks={"_upgrade", "_check_codes_and_times"},
            )
        if type(data) is not dict:
            raise Unsure
        out = self._fast(upgrade(data))  # the _upgrade pre_load
        if self.code_and_time_errors(out):  # the schema validator: marshmallow says what is wrong
            raise Unsure
        return out

    @pre_load
    def _upgrade(self, data: object, **kwargs: object) -> object:
        return upgrade(data) if isinstance(data, dict) else data

    @validates_schema(skip_on_field_errors=False)
    def _check_codes_and_times(self, data: dict[str, Any], **kwargs: object) -> None:
        errors = self.code_and_time_errors(data)
        if errors:
            raise ValidationError(errors)

    def code_and_time_errors(self, data: dict[str, Any]) -> dict[str, list[str]]:
        """Codes must be known and times plausible (checked on loaded data)."""
        errors: dict[str, list[str]] = {}
        kind = data.get("kind")
        if kind is not None and kind not in self.kind_codes:
            errors["kind"] = [f"Unknown kind {kind!r}."]
        unknown = sorted(set(data.get("standards") or []) - self.standard_codes)
        if unknown:
            errors["standards"] = [f"Unknown standards: {', '.join(unknown)}."]
        unknown = sorted(set(data.get("groups") or []) - self.group_codes)
        if unknown:
            errors["groups"] = [f"Unknown groups: {', '.join(unknown)}."]
        errors.update(self._concern_errors(data.get("concerns")))
        errors.update(self._priority_errors(data))
        for name in ("occurred_at", "publicised_at"):
            value = data.get(name)
            if value is None:
                continue
            when = datetime.fromisoformat(value)
            if when > self.now + FUTURE_TOLERANCE:
                errors[name] = ["Is in the future: check the phone's date and time."]
            elif when < EARLIEST:
                errors[name] = ["Is before the year 2000."]
        return errors

    def _concern_errors(self, concerns: list[dict[str, Any]] | None) -> dict[str, list[str]]:
        # Field errors do not stop this check (skip_on_field_errors=False): skip what failed.
        named = {c.get("category") for c in concerns or () if isinstance(c, dict)}
        unknown = sorted(c for c in named - self.concern_codes if isinstance(c, str))
        return (
            {"concerns": [f"Unknown concern categories: {', '.join(unknown)}."]} if unknown else {}
        )

    def _priority_errors(self, data: dict[str, Any]) -> dict[str, list[str]]:
        """A priority's own rules, on the fields this change sends (an edit sends what changed,
        so a status that ends a priority comes with its date, and a closure with its reason)."""
        kind = data.get("kind")
        errors = wrong_kind_errors(kind, data) if kind is not None else {}
        if errors or kind not in (None, PRIORITY):
            return errors
        if kind == PRIORITY and not (data.get("title") or "").strip():
            errors["title"] = ["A local priority needs a title."]
        status = data.get("priority_status")
        if status in ENDED and not data.get("closed_on"):
            errors["closed_on"] = ["Say the day the priority ended."]
        if status == "closed" and not (data.get("closed_reason") or "").strip():
            errors["closed_reason"] = ["Say why the priority was closed without action."]
        for name in ("closed_on", "review_by"):
            value = data.get(name)
            if value is None or name in errors:
                continue
            try:
                day = date.fromisoformat(value)
            except ValueError:
                errors[name] = ["Is not a date in the calendar."]
                continue
            if day < EARLIEST.date():
                errors[name] = ["Is before the year 2000."]
            elif name == "closed_on" and day > (self.now + timedelta(days=1)).date():
                errors[name] = ["Is in the future: a priority ends on a day that has come."]
        return errors


def wrong_kind_errors(kind: str | None, data: Mapping[str, Any]) -> dict[str, list[str]]:
    """Priority fields with a value on a record of another kind (an edit that does not send the
    kind is checked against the record's stored kind by the server)."""
    if kind == PRIORITY:
        return {}
    return {
        name: ["Only a local priority has this field."]
        for name in PRIORITY_FIELDS
        if data.get(name) not in (None, "", [])
    }


def field_labels() -> dict[str, str]:
    """Each record field's name as a supervisor reads it (the schema is their one source)."""
    return {
        name: field.metadata["label"] for name, field in EngagementSchema._declared_fields.items()
    }


def record_schema_description(schema: EngagementSchema) -> dict[str, dict[str, Any]]:
    """Describe each field (type, required, limits) so the app can build its form from it."""
    described: dict[str, dict[str, Any]] = {}
    for name, field in schema.fields.items():
        entry: dict[str, Any] = {"type": type(field).__name__.lower(), "required": field.required}
        for validator in field.validators:
            if isinstance(validator, validate.Length):
                entry.update(
                    {k: v for k, v in (("min", validator.min), ("max", validator.max)) if v}
                )
            if isinstance(validator, validate.Range):
                entry.update({"min": validator.min, "max": validator.max})
        described[name] = entry
    return described
