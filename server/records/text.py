"""Text a database cannot store: lone UTF-16 surrogates and NUL (issue 11 item 10).

JSON may spell "\\ud800" on its own; Python reads it into a str that cannot be encoded as UTF-8.
JSON may also spell "\\u0000", which no PostgreSQL text column holds (SQLite would, so both refuse
it alike). Either made the database fail: a 500, and for a push the whole batch, which a phone
then retries for ever. Finding them costs a regex over the raw body; only a body that has such
an escape at all (an emoji is a valid pair) is walked value by value.
"""

from __future__ import annotations

import re
from typing import overload

# A \uD800-\uDFFF or \u0000 escape, or a surrogate sent raw as (CESU-8) bytes. Raw NUL bytes
# are not valid inside a JSON string, so json.loads refuses them itself.
_MAYBE = re.compile(rb"\\u[dD][89a-fA-F]|\\u0000|\xed[\xa0-\xbf]")
_UNSTORABLE = re.compile("[\ud800-\udfff\x00]")
SURROGATE = "Not valid text: it holds half of a UTF-16 surrogate pair."
NUL = "Not valid text: it holds a NUL character (U+0000)."
MESSAGE = "Not valid text: it holds a NUL character or half of a UTF-16 surrogate pair."


def may_be_unstorable(raw: bytes) -> bool:
    # Most bodies hold neither a \u escape nor the byte 0xED at all, which `in` rules out
    # several times faster than the regex (a push's whole body is scanned).
    if b"\\u" not in raw and b"\xed" not in raw:
        return False
    return _MAYBE.search(raw) is not None


def problem(value: object) -> str | None:
    """Why a JSON value (a string, or any string or key inside it) cannot be stored, if it
    cannot."""
    if isinstance(value, str):
        if "\x00" in value:
            return NUL
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return SURROGATE
        return None
    if isinstance(value, dict):
        items = (problem(k) or problem(v) for k, v in value.items())
        return next((p for p in items if p), None)
    if isinstance(value, list):
        return next((p for p in map(problem, value) if p), None)
    return None


def bad_text(value: object) -> bool:
    return problem(value) is not None


def bad_fields(body: dict, skip: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Top-level names of `body` whose values are not valid text, as field errors."""
    found = {}
    for key, value in body.items():
        reason = None if key in skip else problem(key) or problem(value)
        if reason:
            found[_UNSTORABLE.sub("\ufffd", str(key))] = [reason]
    return found


@overload
def clean(value: str) -> str: ...
@overload
def clean(value: object) -> object: ...
def clean(value: object) -> object:
    """A string with its unstorable characters replaced by U+FFFD, for storing what was
    refused; anything else as it is."""
    if not isinstance(value, str):
        return value
    return _UNSTORABLE.sub("\ufffd", value)  # one for one: a column's length limit still holds


# A cell starting with one of these is a formula to a spreadsheet; a leading ' keeps it text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """A CSV cell a spreadsheet reads as text, never as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
