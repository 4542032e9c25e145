"""Reading JSON request bodies with precise errors."""

from __future__ import annotations

import json
from typing import cast

import orjson
from flask import current_app, request
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import ClientDisconnected

from server.errors import TIMEOUT_MESSAGE, ApiError, Code
from server.records.text import bad_fields, may_be_unstorable, problem

# No Beatbook request nests deeper than 5 (body, changes, change, data, location); deeper input
# is refused before anything recurses over it (the merge, the change log's JSON writer, error
# messages), which past ~980 levels overflowed Python's stack as a 500.
MAX_DEPTH = 32


def json_body(per_change: bool = False) -> object:
    """The request's JSON; with `per_change`, text problems inside `changes` are left to the
    push, which rejects only the changes that have them."""
    if not request.is_json:
        raise ApiError(
            Code.UNSUPPORTED_MEDIA_TYPE,
            "Send the body as JSON with Content-Type: application/json.",
        )
    # Reading the raw body first lets an oversized chunked body (no Content-Length) fail as 413
    # body_too_large, not as malformed JSON; and `null` is valid JSON, refused later as not an
    # object.
    try:
        raw = request.get_data(cache=True)
    except ClientDisconnected as exc:
        # Werkzeug reports any failed read so; the socket's read timeout (server/worker.py),
        # a stalled upload, is the one a phone should simply send again.
        if isinstance(exc.__context__, TimeoutError):
            raise ApiError(Code.REQUEST_TIMEOUT, TIMEOUT_MESSAGE) from exc
        raise ApiError(
            Code.MALFORMED_JSON, "The connection failed before the body was complete."
        ) from exc
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is None and len(raw) >= limit:
        # Werkzeug stops reading a chunked body at the limit rather than failing.
        raise ApiError(
            Code.BODY_TOO_LARGE,
            f"The body is over the limit of {limit} bytes: send smaller batches.",
        )
    if request.content_length is not None and len(raw) < request.content_length:
        # gunicorn hands over what arrived when the client closes early: a body cut short may
        # still parse (a whole batch with a Content-Length that promised more), and must not apply.
        raise ApiError(
            Code.MALFORMED_JSON,
            f"The body ended after {len(raw)} of the {request.content_length} bytes its "
            "Content-Length announced; send it again.",
        )
    try:
        data = _decoded(raw)
    except RecursionError as exc:
        raise _too_deep() from exc
    except ValueError as exc:
        raise ApiError(Code.MALFORMED_JSON, f"The body is not valid JSON ({exc}).") from exc
    if _deeper_than(data, MAX_DEPTH):
        raise _too_deep()
    if may_be_unstorable(raw):
        _refuse_bad_text(data, per_change)
    return data


def _decoded(raw: bytes) -> object:
    """The body's JSON: orjson reads the usual body several times faster; what it refuses
    (another encoding than UTF-8, NaN, integers past 64 bits, lone surrogates, deep nesting)
    goes to json, which reads or refuses it exactly as before."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


def _refuse_bad_text(value: object, per_change: bool) -> None:
    """A 400 for text the database cannot store; a push's changes are judged one by one."""
    if isinstance(value, dict):
        problems = bad_fields(value, skip=("changes",) if per_change else ())
    else:
        reason = problem(value)
        problems = {"_schema": [reason]} if reason else {}
    if problems:
        raise ApiError(Code.VALIDATION_FAILED, "Some fields are missing or wrong.", problems)


def _too_deep() -> ApiError:
    return ApiError(
        Code.MALFORMED_JSON, f"The body nests arrays or objects more than {MAX_DEPTH} levels deep."
    )


def _deeper_than(data: object, limit: int) -> bool:
    """Whether `data` holds containers more than `limit` levels deep, without recursion."""
    level, containers = 1, [data] if isinstance(data, (dict, list)) else []
    while containers:
        if level > limit:
            return True
        inner: list[dict | list] = []
        for container in containers:
            values = container.values() if isinstance(container, dict) else container
            inner.extend(v for v in values if isinstance(v, (dict, list)))
        containers, level = inner, level + 1
    return False


def load(schema: Schema, data: object) -> dict:
    if not isinstance(data, dict):
        raise ApiError(Code.VALIDATION_FAILED, "The body must be a JSON object.")
    try:
        return schema.load(data)
    except ValidationError as exc:
        # A schema's load reports its errors as a dict by field (marshmallow types them wider).
        fields = cast(dict, exc.messages)
        raise ApiError(Code.VALIDATION_FAILED, "Some fields are missing or wrong.", fields)
