"""A plain-Python fast path for the common valid input of a marshmallow schema.

Marshmallow spends about 0.4 ms loading one record, most of a 500-change push. `compile_loader`
derives from a schema's own fields and validators a loader that handles only input whose
outcome it can decide exactly (well-typed JSON values inside every limit) and returns what
`schema.load` returns, keys in the same order. Anything else (a wrong type, a merely coercible
one such as "12" for 12, a value out of range, None where it is not allowed, an unknown key)
raises `Unsure`, and the caller loads with marshmallow, which gives the same data or its error
messages. So the fast path can make loading faster, never more lenient.

A field type, validator, option or hook it does not know makes compiling fail (TypeError): a
change to a schema cannot slip past the fast path unchecked.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, fields, missing, validate

Convert = Callable[[Any], Any]
Loader = Callable[[Any], dict[str, Any]]
# Converters for field classes the caller defines itself (exact class -> factory).
Custom = Mapping[type, Callable[[fields.Field[Any]], Convert]]


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
    unknown = unknown or schema.unknown
    if unknown not in (RAISE, EXCLUDE):
        raise TypeError(f"no fast path for unknown={unknown!r}")
    plan: list[tuple[str, Convert, bool, object]] = []
    for name, field in schema.load_fields.items():
        key = field.data_key if field.data_key is not None else name
        if (field.attribute or name) != key:
            raise TypeError(f"no fast path for a renamed field ({name})")
        plan.append((key, _field(field, partial, custom or {}), field.required, field.load_default))
    known = frozenset(key for key, *_ in plan)
    raise_unknown = unknown == RAISE

    def load(data: Any) -> dict[str, Any]:
        if type(data) is not dict or (raise_unknown and not known.issuperset(data)):
            raise Unsure
        out: dict[str, Any] = {}
        for key, convert, required, default in plan:
            if key in data:
                out[key] = convert(data[key])
            elif partial:
                continue
            elif required:
                raise Unsure
            elif default is not missing:
                out[key] = default() if callable(default) else default
        return out

    return load


def _field(field: fields.Field[Any], partial: bool, custom: Custom) -> Convert:
    if getattr(field, "pre_load", None) or getattr(field, "post_load", None):
        raise TypeError(f"no fast path for field-level processors ({field.name})")
    convert = _typed(field, partial, custom)
    checks = [_validator(v) for v in field.validators]
    allow_none = field.allow_none

    def run(value: Any) -> Any:
        if value is None:
            if allow_none:
                return None
            raise Unsure
        out = convert(value)
        for check in checks:
            if not check(out):
                raise Unsure
        return out

    return run


def _typed(field: fields.Field[Any], partial: bool, custom: Custom) -> Convert:
    """The conversion of one well-typed JSON value, by the field's exact class."""
    # `type(field) is` (not a saved `kind`) so that mypy narrows `field` to the class.
    kind = type(field)
    if kind in custom:
        return custom[kind](field)
    if type(field) is fields.String:
        return _string
    if type(field) is fields.Integer:  # strict or not, a JSON integer is taken as it is
        return _integer
    if type(field) is fields.Float:
        return _float if not field.allow_nan else _float_any
    if type(field) is fields.Boolean:
        return _boolean(field)
    if type(field) is fields.Raw:
        return lambda value: value
    if type(field) is fields.Dict and field.key_field is None and field.value_field is None:
        return _dict
    if type(field) is fields.List:
        if _plain_string(field.inner):  # the common list of codes: one pass, no call per item
            return _strings
        inner = _field(field.inner, partial, custom)
        return lambda value: [inner(v) for v in value] if type(value) is list else _unsure()
    if type(field) is fields.Nested and not field.many:
        # An edit may leave out whole fields, but a location it sends is complete: partial
        # applies to the top level only (marshmallow's `partial=<top-level names>`).
        nested = compile_loader(field.schema, partial=False, custom=custom, unknown=field.unknown)
        return nested
    raise TypeError(f"no fast path for {kind.__name__} ({field.name})")


def _unsure() -> Any:
    raise Unsure


def _plain_string(field: fields.Field[Any]) -> bool:
    return (
        type(field) is fields.String
        and not field.validators
        and not field.allow_none
        and not getattr(field, "pre_load", None)
        and not getattr(field, "post_load", None)
    )


def _strings(value: Any) -> list[str]:
    if type(value) is list and all(type(item) is str for item in value):
        return list(value)
    raise Unsure


def _string(value: Any) -> str:
    if type(value) is str:
        return value
    raise Unsure


def _integer(value: Any) -> int:
    if type(value) is int:  # bool is not: marshmallow rejects it
        return value
    raise Unsure


def _float(value: Any) -> float:
    out = _float_any(value)
    if math.isfinite(out):
        return out
    raise Unsure


def _float_any(value: Any) -> float:
    if type(value) is float:
        return value
    if type(value) is int:
        try:
            return float(value)
        except OverflowError:
            raise Unsure from None
    raise Unsure


def _dict(value: Any) -> dict[str, Any]:
    if type(value) is dict:
        return dict(value)
    raise Unsure


def _boolean(field: fields.Boolean) -> Convert:
    truthy, falsy = field.truthy, field.falsy

    def convert(value: Any) -> bool:
        if type(value) is not bool:
            raise Unsure
        if not truthy:
            return value
        if value in truthy:
            return True
        if value in falsy:
            return False
        raise Unsure

    return convert


def _validator(validator: Callable[[Any], Any]) -> Callable[[Any], bool]:
    """A validator as a predicate with the same outcome."""
    if type(validator) is validate.Length:
        low, high, equal = validator.min, validator.max, validator.equal
        if equal is not None:
            return lambda v: len(v) == equal
        return lambda v: (low is None or len(v) >= low) and (high is None or len(v) <= high)
    if type(validator) is validate.Range:
        low, high = validator.min, validator.max
        low_in, high_in = validator.min_inclusive, validator.max_inclusive
        return lambda v: (
            (low is None or (v >= low if low_in else v > low))
            and (high is None or (v <= high if high_in else v < high))
        )
    if type(validator) is validate.Equal:
        comparable = validator.comparable
        return lambda v: v == comparable
    if type(validator) is validate.OneOf:
        choices = validator.choices
        return lambda v: v in choices
    if type(validator) is validate.Regexp:
        regex = validator.regex
        return lambda v: regex.match(v) is not None
    raise TypeError(f"no fast path for the validator {type(validator).__name__}")
