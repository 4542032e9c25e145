"""One error shape for the whole API: {"error": {"code", "message", "fields"?}}.

The core raises domain errors; this module translates them at the edge.
"""

from __future__ import annotations

from enum import Enum

from flask import Flask, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException


class Code(str, Enum):
    """Error codes and their HTTP status.

    | code | status | meaning |
    | malformed_json | 400 | the body is not JSON |
    | validation_failed | 400 | a field is missing or wrong (see `fields`) |
    | bad_cursor | 400 | the pull cursor was not one the server gave |
    | unauthenticated | 401 | no or unknown token, or not signed in |
    | token_revoked | 401 | the device's token was revoked or has expired |
    | bad_credentials | 401 | wrong username or password |
    | forbidden | 403 | the role or team may not do this |
    | not_found | 404 | no such resource |
    | method_not_allowed | 405 | wrong HTTP method |
    | device_mismatch | 409 | the body names another device than the token |
    | body_too_large | 413 | the body is over the byte limit |
    | batch_too_large | 413 | the batch has too many changes |
    | unsupported_media_type | 415 | the body is not application/json |
    | clock_drift | 422 | a clock is beyond the drift the server accepts |
    | rate_limited | 429 | too many failed sign-ins; wait Retry-After seconds |
    | internal_error | 500 | a bug on the server; retry later |
    """

    MALFORMED_JSON = "malformed_json"
    VALIDATION_FAILED = "validation_failed"
    BAD_CURSOR = "bad_cursor"
    UNAUTHENTICATED = "unauthenticated"
    TOKEN_REVOKED = "token_revoked"
    BAD_CREDENTIALS = "bad_credentials"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    DEVICE_MISMATCH = "device_mismatch"
    BODY_TOO_LARGE = "body_too_large"
    BATCH_TOO_LARGE = "batch_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    CLOCK_DRIFT = "clock_drift"
    RATE_LIMITED = "rate_limited"
    INTERNAL_ERROR = "internal_error"

    @property
    def status(self) -> int:
        return _STATUS[self]


_STATUS = {
    Code.MALFORMED_JSON: 400,
    Code.VALIDATION_FAILED: 400,
    Code.BAD_CURSOR: 400,
    Code.UNAUTHENTICATED: 401,
    Code.TOKEN_REVOKED: 401,
    Code.BAD_CREDENTIALS: 401,
    Code.FORBIDDEN: 403,
    Code.NOT_FOUND: 404,
    Code.METHOD_NOT_ALLOWED: 405,
    Code.DEVICE_MISMATCH: 409,
    Code.BODY_TOO_LARGE: 413,
    Code.BATCH_TOO_LARGE: 413,
    Code.UNSUPPORTED_MEDIA_TYPE: 415,
    Code.CLOCK_DRIFT: 422,
    Code.RATE_LIMITED: 429,
    Code.INTERNAL_ERROR: 500,
}
_BY_STATUS = {400: Code.MALFORMED_JSON, 401: Code.UNAUTHENTICATED, 403: Code.FORBIDDEN,
              404: Code.NOT_FOUND, 405: Code.METHOD_NOT_ALLOWED, 413: Code.BODY_TOO_LARGE,
              415: Code.UNSUPPORTED_MEDIA_TYPE, 429: Code.RATE_LIMITED}


class ApiError(Exception):
    """An error the client is told about; `extra` adds keys such as `server_time` to the body."""

    def __init__(self, code: Code, message: str, fields: dict | None = None, headers=None,
                 extra: dict | None = None):
        super().__init__(message)
        self.code, self.message, self.fields = code, message, fields
        self.headers, self.extra = headers or {}, extra or {}


def flat_messages(messages) -> dict[str, list[str]]:
    """Marshmallow's nested errors as field -> sentences a person can read.

    {"standards": {0: ["Not a valid string."]}} becomes {"standards": ["Item 1: Not a valid string."]}
    and {"location": {"lat": [...]}} becomes {"location": ["lat: ..."]}.
    """
    if not isinstance(messages, dict):
        return {"_schema": _sentences(messages)}
    return {str(name): _sentences(value) for name, value in messages.items()}


def _sentences(value, prefix: str = "") -> list[str]:
    if isinstance(value, dict):
        out = []
        for key, inner in value.items():
            label = f"Item {key + 1}" if isinstance(key, int) else str(key)
            out.extend(_sentences(inner, f"{prefix}{label}: "))
        return out
    if isinstance(value, (list, tuple)):
        out = []
        for item in value:
            out.extend(_sentences(item, prefix) if isinstance(item, (dict, list)) else
                       [f"{prefix}{item}"])
        return out
    return [f"{prefix}{value}"]


def error_response(code: Code, message: str, fields: dict | None = None, headers=None,
                   extra: dict | None = None):
    body = {"code": code.value, "message": message, **(extra or {})}
    if fields:
        body["fields"] = fields
    response = jsonify({"error": body})
    response.status_code = code.status
    response.headers.update(headers or {})
    return response


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.is_json


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return error_response(exc.code, exc.message, exc.fields, exc.headers, exc.extra)

    @app.errorhandler(ValidationError)
    def _validation_error(exc: ValidationError):
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return error_response(Code.VALIDATION_FAILED, "Some fields are missing or wrong.", messages)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if not wants_json():
            return exc
        code = _BY_STATUS.get(exc.code or 500, Code.INTERNAL_ERROR)
        message = exc.description or code.value
        if exc.code == 413:
            limit = app.config["MAX_CONTENT_LENGTH"]
            message = f"The body is over the limit of {limit} bytes: send smaller batches."
        if exc.code == 400 and code is Code.MALFORMED_JSON:
            message = "The body is not valid JSON."
        return error_response(code, message)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        if not wants_json():
            return "Something went wrong on the server. It has been logged.", 500
        return error_response(Code.INTERNAL_ERROR, "Something went wrong on the server; retry later.")
