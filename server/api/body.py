"""Reading JSON request bodies with precise errors."""

from __future__ import annotations

import json

from flask import current_app, request
from marshmallow import Schema, ValidationError

from server.errors import ApiError, Code


def json_body() -> object:
    if not request.is_json:
        raise ApiError(
            Code.UNSUPPORTED_MEDIA_TYPE, "Send the body as JSON with Content-Type: application/json."
        )
    # Reading the raw body first lets an oversized chunked body (no Content-Length) fail as 413
    # body_too_large, not as malformed JSON; and `null` is valid JSON, refused later as not an object.
    raw = request.get_data(cache=True)
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is None and len(raw) >= limit:
        # Werkzeug stops reading a chunked body at the limit rather than failing.
        raise ApiError(Code.BODY_TOO_LARGE,
                       f"The body is over the limit of {limit} bytes: send smaller batches.")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ApiError(Code.MALFORMED_JSON, f"The body is not valid JSON ({exc}).") from exc


def load(schema: Schema, data: object) -> dict:
    if not isinstance(data, dict):
        raise ApiError(Code.VALIDATION_FAILED, "The body must be a JSON object.")
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise ApiError(Code.VALIDATION_FAILED, "Some fields are missing or wrong.", exc.messages)
