"""Lone UTF-16 surrogates in JSON bodies (issue 11 item 10).

JSON may spell "\\ud800" on its own; Python reads it into a str that cannot be encoded as UTF-8,
so the database refuses it (a 500, and for a push the whole batch, which a phone then retries
for ever). Finding them costs a regex over the raw body; only a body that has a surrogate
escape at all (an emoji is a valid pair) is walked value by value.
"""

from __future__ import annotations

import re

# A \uD800-\uDFFF escape, or such a code point sent raw as (CESU-8) bytes.
_MAYBE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")
_LONE = re.compile("[\ud800-\udfff]")
MESSAGE = "Not valid text: it holds half of a UTF-16 surrogate pair."


def may_have_surrogates(raw: bytes) -> bool:
    return _MAYBE.search(raw) is not None


def bad_text(value: object) -> bool:
    """Whether a JSON value holds a string (or key) that is not valid Unicode text."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(bad_text(k) or bad_text(v) for k, v in value.items())
    if isinstance(value, list):
        return any(bad_text(v) for v in value)
    return False


def bad_fields(body: dict, skip: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Top-level names of `body` whose values are not valid text, as field errors."""
    return {
        str(k).encode("utf-8", "replace").decode(): [MESSAGE]
        for k, v in body.items()
        if k not in skip and (bad_text(k) or bad_text(v))
    }


def clean(value: str | None) -> str | None:
    """A string with its lone surrogates replaced by U+FFFD, for storing what was refused."""
    if not isinstance(value, str):
        return value
    return _LONE.sub("\ufffd", value)  # one for one: a column's length limit still holds
