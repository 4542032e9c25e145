"""The fast path for the common valid input of a marshmallow schema, checked in C by msgspec.

Marshmallow spends about 0.4 ms loading one record, most of a 500-change push. `compile_loader`
derives from a schema's own fields and validators a msgspec Struct type (marshmallow stays the
schema of record: nothing is declared twice) and returns a loader that converts a decoded JSON
object to that type and back to a dict, so msgspec checks the types and limits in C. It returns
what `schema.load` returns, keys in the same order, for input whose outcome it can decide
exactly (well-typed JSON values inside every limit). Anything else (a wrong type, a merely
coercible one such as "12" for 12, a value out of range, None where it is not allowed, an
unknown key) raises `Unsure`, and the caller loads with marshmallow, which gives the same data
or its error messages. So the fast path can make loading faster, never more lenient
(tests/schema/test_fast_validation.py checks that on random valid and invalid records).

A field type, validator, option or hook it does not know makes compiling fail (TypeError): a
change to a schema cannot slip past the fast path unchecked.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping
from typing import Annotated, Any, Literal, get_args

import msgspec
from marshmallow import EXCLUDE, RAISE, Schema, fields, missing, validate

Convert = Callable[[Any], Any]
Loader = Callable[[Any], dict[str, Any]]
# Converters for field classes the caller defines itself (exact class -> factory). They run in
# Python on the value msgspec passed through untouched.
Custom = Mapping[type, Callable[[fields.Field[Any]], Convert]]
# What is left for Python after msgspec: (key, step) where step(value) returns the value to
# keep or raises Unsure.
Steps = list[tuple[str, Convert]]


class Unsure(Exception):
    """The fast path cannot decide this input exactly: load it with marshmallow instead."""


def compile_loader(
    schema: Schema,
    *,
    partial: bool,
    custom: Custom | None = None,
    replicated_hooks: Collection[str] = (),
    unknown: str | None = None,
) -> Loader:
    """A loader equal to `schema.load(data, partial=partial)` wherever it does not raise Unsure.

    `replicated_hooks` names the schema's hook methods the caller reproduces around the loader
    (a pre_load it applies first, a schema validator it runs after); any other hook is refused.
    """
    hooks = {name for entries in schema._hooks.values() for name, _, _ in entries}
    if hooks - set(replicated_hooks):
        raise TypeError(f"no fast path for the hooks {sorted(hooks - set(replicated_hooks))}")
    struct, steps = _struct(schema, partial, custom or {}, unknown)
    convert, invalid = msgspec.convert, msgspec.ValidationError
    # to_builtins leaves out UNSET fields and turns nested Structs into dicts, but copies every
    # value all the way down; with neither to undo, a shallow asdict gives the same dict.
    fields_of = msgspec.structs.fields(struct)
    deep = any(f.default is msgspec.UNSET or _holds_struct(f.type) for f in fields_of)
    to_dict = msgspec.to_builtins if deep else msgspec.structs.asdict

    def load(data: Any) -> dict[str, Any]:
        if type(data) is not dict:
            raise Unsure
        try:
            out: dict[str, Any] = to_dict(convert(data, struct))
        except invalid:
            raise Unsure from None
        for key, step in steps:
            if key in out:
                out[key] = step(out[key])
        return out

    return load


def _struct(
    schema: Schema, partial: bool, custom: Custom, unknown: str | None
) -> tuple[type[msgspec.Struct], Steps]:
    """The Struct type for one schema, and the checks left for Python.

    `partial` leaves every field out unless sent (no default): what marshmallow does for the
    fields named in `partial`. A Struct field left UNSET is not in the dict it turns into.
    """
    unknown = unknown or schema.unknown
    if unknown not in (RAISE, EXCLUDE):
        raise TypeError(f"no fast path for unknown={unknown!r}")
    spec: list[tuple[str, Any, Any]] = []
    steps: Steps = []
    for name, field in schema.load_fields.items():
        key = field.data_key if field.data_key is not None else name
        if (field.attribute or name) != key:
            raise TypeError(f"no fast path for a renamed field ({name})")
        kind, step = _field(field, custom)
        spec.append((key, kind, _default(field, partial)))
        if step is not None:
            steps.append((key, step))
    struct = msgspec.defstruct(
        f"{type(schema).__name__}Fast",
        [(k, t) if d is _REQUIRED else (k, t, d) for k, t, d in spec],
        forbid_unknown_fields=unknown == RAISE,
        kw_only=True,  # so a required field may follow one with a default, in schema order
    )
    return struct, steps


_REQUIRED = object()


def _holds_struct(kind: Any) -> bool:
    """Whether a field's type has a Struct anywhere inside it (list[...], ... | None)."""
    if isinstance(kind, type) and issubclass(kind, msgspec.Struct):
        return True
    return any(_holds_struct(arg) for arg in get_args(kind))


def _default(field: fields.Field[Any], partial: bool) -> Any:
    if partial:
        return msgspec.UNSET
    if field.required:
        return _REQUIRED
    default = field.load_default
    if default is missing:
        return msgspec.UNSET
    if callable(default):
        return msgspec.field(default_factory=default)
    return default


def _field(field: fields.Field[Any], custom: Custom) -> tuple[Any, Convert | None]:
    """A field's msgspec type, and a check for Python when msgspec cannot make it."""
    if getattr(field, "pre_load", None) or getattr(field, "post_load", None):
        raise TypeError(f"no fast path for field-level processors ({field.name})")
    if type(field) in custom:
        return Any, _custom(field, custom[type(field)](field))
    kind, step = _typed(field, custom)
    kind = _validated(kind, field)
    if field.allow_none:
        kind = kind | None
    return kind, step


def _custom(field: fields.Field[Any], convert: Convert) -> Convert:
    checks = [_predicate(v) for v in field.validators]
    allow_none = field.allow_none

    def step(value: Any) -> Any:
        if value is None:
            if allow_none:
                return None
            raise Unsure
        out = convert(value)
        for check in checks:
            if not check(out):
                raise Unsure
        return out

    return step


def _typed(field: fields.Field[Any], custom: Custom) -> tuple[Any, Convert | None]:
    """The type of one well-typed JSON value, by the field's exact class."""
    # `type(field) is` (not a saved `kind`) so that mypy narrows `field` to the class.
    if type(field) is fields.String:
        return str, None
    if type(field) is fields.Integer:  # strict or not, a JSON integer is taken as it is
        return int, None
    if type(field) is fields.Float:
        # msgspec takes NaN and infinities; marshmallow only with allow_nan (a Range refuses
        # them in msgspec too, but the check costs little).
        return float, None if field.allow_nan else _finite
    if type(field) is fields.Boolean:
        if not (True in field.truthy and False in field.falsy) and (field.truthy or field.falsy):
            raise TypeError(f"no fast path for a Boolean without True and False ({field.name})")
        return bool, None
    if type(field) is fields.Raw:
        return Any, None
    if type(field) is fields.Dict and field.key_field is None and field.value_field is None:
        return Any, _dict  # not `dict`: msgspec would copy every value inside, level by level
    if type(field) is fields.List:
        inner, step = _field(field.inner, custom)
        return list[inner], None if step is None else _each(step)  # type: ignore[valid-type]
    if type(field) is fields.Nested and not field.many and isinstance(field.schema, Schema):
        # An edit may leave out whole fields, but a location it sends is complete: partial
        # applies to the top level only (marshmallow's `partial=<top-level names>`).
        nested, steps = _struct(field.schema, False, custom, field.unknown)
        return nested, _within(steps) if steps else None
    raise TypeError(f"no fast path for {type(field).__name__} ({field.name})")


def _finite(value: Any) -> Any:
    if value is None or math.isfinite(value):
        return value
    raise Unsure


def _dict(value: Any) -> dict[str, Any]:
    if type(value) is dict:
        return dict(value)
    raise Unsure


def _each(step: Convert) -> Convert:
    return lambda values: [step(v) for v in values]


def _within(steps: Steps) -> Convert:
    def step(value: Any) -> Any:
        if value is not None:
            for key, inner in steps:
                if key in value:
                    value[key] = inner(value[key])
        return value

    return step


def _validated(kind: Any, field: fields.Field[Any]) -> Any:
    """The type narrowed by the field's validators: msgspec constraints or a Literal."""
    limits: dict[str, Any] = {}
    literal: tuple[Any, ...] | None = None
    for validator in field.validators:
        if type(validator) is validate.Length:
            if validator.equal is not None:
                _limit(limits, "min_length", validator.equal)
                _limit(limits, "max_length", validator.equal)
            else:
                _limit(limits, "min_length", validator.min)
                _limit(limits, "max_length", validator.max)
        elif type(validator) is validate.Range:
            low = "ge" if validator.min_inclusive else "gt"
            high = "le" if validator.max_inclusive else "lt"
            _limit(limits, low, validator.min)
            _limit(limits, high, validator.max)
        elif type(validator) is validate.Regexp:
            regex = validator.regex
            if not isinstance(regex.pattern, str) or regex.flags & ~re.UNICODE:
                raise TypeError(f"no fast path for a Regexp with flags ({field.name})")
            # marshmallow matches at the start; msgspec searches: anchor it.
            _limit(limits, "pattern", f"^(?:{regex.pattern})")
        elif isinstance(validator, (validate.Equal, validate.OneOf)) and literal is None:
            if type(validator) not in (validate.Equal, validate.OneOf):
                raise TypeError(f"no fast path for the validator {type(validator).__name__}")
            literal = (
                (validator.comparable,)
                if isinstance(validator, validate.Equal)
                else tuple(validator.choices)
            )
            if not all(type(v) is str for v in literal) and not all(
                type(v) is int for v in literal
            ):
                raise TypeError(f"no fast path for choices of mixed types ({field.name})")
        else:
            raise TypeError(f"no fast path for the validator {type(validator).__name__}")
    if literal is not None:
        if limits:
            raise TypeError(f"no fast path for choices with limits ({field.name})")
        return Literal[literal]
    return Annotated[kind, msgspec.Meta(**limits)] if limits else kind


def _limit(limits: dict[str, Any], name: str, value: Any) -> None:
    if value is None:
        return
    if name in limits:
        raise TypeError(f"no fast path for two validators setting {name}")
    limits[name] = value


def _predicate(validator: Callable[[Any], Any]) -> Callable[[Any], bool]:
    """A validator of a custom field's converted value, as a predicate with the same outcome."""
    if type(validator) is validate.Length:
        low, high, equal = validator.min, validator.max, validator.equal
        if equal is not None:
            return lambda v: len(v) == equal
        return lambda v: (low is None or len(v) >= low) and (high is None or len(v) <= high)
    raise TypeError(f"no fast path for the validator {type(validator).__name__} on this field")
