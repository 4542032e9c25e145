"""Personal data that free text looks like it holds: small pattern rules, shared with the app.

Records are evidence, not intelligence: a summary, place or follow-up should not name a member of
the public or hold their phone number, email, date of birth, vehicle registration or National
Insurance number. These rules flag text that looks like it does, so the phone can warn before
saving and the server can put a record the officer confirmed anyway in the supervisor's review
queue. `tests/vectors/pii.json` pins them: the app's rules (pwa/) are held to the same cases.

Pattern rules rather than Microsoft Presidio: Presidio's analyzer needs spaCy and a language
model that is downloaded outside the package registries (no offline install, hundreds of MB),
and its recognisers would still need these UK rules; the app must agree with the server, and a
regular expression is the one thing both sides can run identically. Every pattern here is also
valid JavaScript (no possessives, no inline flags, lookbehind only of fixed width).

A flag is a warning, not a verdict: false positives cost the officer one tap.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

FLAGS = ("dob", "email", "name", "ni_number", "phone", "vehicle_reg")
FIELDS = ("summary", "place", "follow_up", "title", "closed_reason")  # a record's free text

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*"
_NUMERIC_DATE = r"\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})"
_DATE = rf"(?:{_NUMERIC_DATE}|\d{{1,2}}(?:st|nd|rd|th)? {_MONTH},? \d{{4}})"

# (flag, pattern, case-insensitive?)
RULES: tuple[tuple[str, str, bool], ...] = (
    # UK numbers: 01, 02, 03 and 07 (geographic, non-geographic, mobile), national or +44 / 0044,
    # digits optionally split by a space or hyphen; (01632) and +44 (0)20 forms too.
    (
        "phone",
        r"(?<![\w+])(?:(?:\+|00)44 ?(?:\(0\) ?)?|\(?0)[1237](?:[ -]?\)?[ -]?\d){8,9}(?!\d)",
        False,
    ),
    ("email", r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", False),
    # A date after a cue (DOB, date of birth, born), or any numeric date in the 1900s: a record
    # cannot be dated before 2000, so such a date is somebody's birthday.
    ("dob", rf"\b(?:d\.?o\.?b\b\.?|date of birth|born(?: on)?)[ :.-]*{_DATE}", True),
    ("dob", r"(?<!\d)\d{1,2}[/.-]\d{1,2}[/.-]19\d{2}(?!\d)", False),
    # Registrations: current (AB12 CDE, any case), prefix (A123 BCD) and suffix (ABC 123D).
    ("vehicle_reg", r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2} ?[A-Za-z]{3}(?![A-Za-z0-9])", False),
    ("vehicle_reg", r"(?<![A-Za-z0-9])[A-Z]\d{1,3} ?[A-Z]{3}(?![A-Za-z0-9])", False),
    ("vehicle_reg", r"(?<![A-Za-z0-9])[A-Z]{3} ?\d{1,3}[A-Z](?![A-Za-z0-9])", False),
    # National Insurance numbers: two prefix letters (D, F, I, Q, U, V never; O never second;
    # BG, GB, KN, NK, NT, TN, ZZ never issued), six digits, suffix A-D.
    (
        "ni_number",
        r"(?<![A-Za-z0-9])(?!bg|gb|kn|nk|nt|tn|zz)[a-ceghj-prstw-z][a-ceghj-nprstw-z]"
        r" ?\d{2} ?\d{2} ?\d{2} ?[a-d](?![A-Za-z0-9])",
        True,
    ),
    # Name-like mentions: a title before a capitalised word, a cue (called, named, name is,
    # known as) before one, or two capitalised words followed by an age.
    ("name", r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.? [A-Z][A-Za-z'-]+", False),
    ("name", r"\b(?:called|named|name is|known as|aka) [A-Z][a-z'-]+", False),
    ("name", r"\b[A-Z][a-z'-]+ [A-Z][a-z'-]+,? (?:\(\d{1,3}\)|\(?aged? \d{1,3}\)?)", False),
)

# ASCII: \d, \w and \b mean in Python what they mean in JavaScript.
_COMPILED = tuple(
    (flag, re.compile(p, re.ASCII | (re.IGNORECASE if i else 0))) for flag, p, i in RULES
)


def detect(text: str) -> list[str]:
    """The flags `text` raises, sorted, each once."""
    if not text:
        return []
    return sorted({flag for flag, pattern in _COMPILED if pattern.search(text)})


def detect_record(
    fields: Mapping[str, object], names: Iterable[str] = FIELDS
) -> dict[str, list[str]]:
    """Per free-text field of a record, the flags it raises (fields raising none left out)."""
    found = {}
    for name in names:
        value = fields.get(name)
        flags = detect(value) if isinstance(value, str) else []
        if flags:
            found[name] = flags
    concerns = fields.get("concerns")
    if isinstance(concerns, list):  # each concern's phrase is free text too
        phrases = [c.get("phrase") for c in concerns if isinstance(c, dict)]
        flags = sorted({f for p in phrases if isinstance(p, str) for f in detect(p)})
        if flags:
            found["concerns"] = flags
    return found
