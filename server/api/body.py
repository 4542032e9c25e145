"""Reading JSON request bodies with precise errors."""

from __future__ import annotations

from flask import request
from marshmallow import Schema, ValidationError

from server.errors import ApiError, Code


def json_body() -> object:
    if not request.is_json:
        raise ApiError(
            Code.UNSUPPORTED_MEDIA_TYPE, "Send the body as JSON with Content-Type: application/json."
        )
    body = request.get_json(silent=True)
    if body is None:
        raise ApiError(Code.MALFORMED_JSON, "The body is not valid JSON.")
    return body


def load(schema: Schema, data: object) -> dict:
    if not isinstance(data, dict):
        raise ApiError(Code.VALIDATION_FAILED, "The body must be a JSON object.")
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise ApiError(Code.VALIDATION_FAILED, "Some fields are missing or wrong.", exc.messages)
