"""Marked-up text for pages: search words highlighted in results, and what differs between two
values of a conflict. Everything is escaped first; only <mark> is added."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from flask import Flask
from markupsafe import Markup, escape

from server.db.search import terms

# Words and what lies between them, so the text comes back whole when joined.
_TOKENS = re.compile(r"\w+|\W+", re.UNICODE)
DIFF_MAX = 4000  # longer texts are shown without marks: a diff of them costs more than it helps


def highlight(text: object, query: str) -> Markup:
    """`text` with each word that a search for `query` matches (as a prefix, as the index
    matches) in <mark>."""
    text = "" if text is None else str(text)
    words = terms(query)
    if not words or not text:
        return escape(text)
    parts = []
    for token in _TOKENS.findall(text):
        lowered = token.lower()
        if token[0].isalnum() or token[0] == "_":
            if any(lowered.startswith(w) for w in words):
                parts.append(Markup("<mark>%s</mark>") % token)
                continue
        parts.append(escape(token))
    return Markup("").join(parts)


def differences(mine: object, other: object) -> Markup | None:
    """`mine` with the words that `other` does not have in <mark>; None when either is not text
    (numbers, lists, places are short enough to compare by eye) or the texts are long."""
    if not isinstance(mine, str) or not isinstance(other, str) or mine == other:
        return None
    if len(mine) > DIFF_MAX or len(other) > DIFF_MAX:
        return None
    a, b = _TOKENS.findall(mine), _TOKENS.findall(other)
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    pieces: list[list] = []  # [differs, text], with neighbours of the same kind joined
    for tag, i1, i2, _j1, _j2 in matcher.get_opcodes():
        chunk = "".join(a[i1:i2])
        if not chunk:
            continue
        differs = tag != "equal" and bool(chunk.strip())
        if pieces and pieces[-1][0] == differs:
            pieces[-1][1] += chunk
        else:
            pieces.append([differs, chunk])
    # A space between two marked words is marked too: "to call back", not three marks.
    for n in range(1, len(pieces) - 1):
        if not pieces[n][0] and not pieces[n][1].strip() and pieces[n - 1][0]:
            pieces[n][0] = pieces[n + 1][0]
    parts = []
    for differs, chunk in _joined(pieces):
        if differs:
            parts.append(Markup('<mark class="differs">%s</mark>') % chunk)
        else:
            parts.append(escape(chunk))
    return Markup("").join(parts)


def _joined(pieces: list[list]) -> list[tuple[bool, str]]:
    joined: list[tuple[bool, str]] = []
    for differs, chunk in pieces:
        if joined and joined[-1][0] == differs:
            joined[-1] = (differs, joined[-1][1] + chunk)
        else:
            joined.append((differs, chunk))
    return joined


def init_marks(app: Flask) -> None:
    app.jinja_env.filters["highlight"] = highlight
    app.jinja_env.globals["differences"] = differences
