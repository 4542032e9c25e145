"""Refuse, before any view runs, URL and form values that no database column can hold.

A NUL (%00) in a path segment, a query parameter or a form field reached PostgreSQL as a
filter or a value and failed there as a 500; SQLite stored or matched it quietly. Werkzeug
already decodes bad UTF-8 with replacement characters, so NUL is the one character left to
check. JSON bodies are checked where they are read (server/api/body.py), per change for a push.
"""

from __future__ import annotations

from flask import Flask, request

from server.errors import ApiError, Code, wants_json
from server.records.text import problem
from server.web.error_pages import PageBadRequest

_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _fields() -> dict[str, list[str]]:
    values: list[tuple[str, object]] = list((request.view_args or {}).items())
    values += request.args.items(multi=True)
    if request.mimetype in _FORMS:
        values += request.form.items(multi=True)
    found: dict[str, list[str]] = {}
    for name, value in values:
        reason = problem(name) or problem(value)
        if reason:
            found[name.replace("\x00", "\ufffd")] = [reason]
    return found


def refuse_unstorable_input() -> None:
    found = _fields()
    if not found:
        return
    if wants_json():
        raise ApiError(Code.VALIDATION_FAILED, "Some fields are missing or wrong.", found)
    names = ", ".join(sorted(found))
    raise PageBadRequest(
        description=f"The page was sent a NUL character (U+0000) in {names}; remove it and "
        "try again."
    )


def init_input_text(app: Flask) -> None:
    app.before_request(refuse_unstorable_input)
