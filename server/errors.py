"""One error shape for the whole API: {"error": {"code", "message", "fields"?}}.

The core raises domain errors; this module translates them at the edge.
"""

from __future__ import annotations

from enum import Enum

from flask import Flask, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException


class Code(str, Enum):
    """Every error code the server answers, with its HTTP status and what it means: this enum is
    the one error table (the OpenAPI document and docs/sync-protocol.md are checked against it)."""

    status: int
    meaning: str

    def __new__(cls, value: str, status: int, meaning: str) -> Code:
        member = str.__new__(cls, value)
        member._value_ = value
        member.status = status
        member.meaning = meaning
        return member

    # The first code of each status is the one a bare HTTP error of that status is given.
    MALFORMED_JSON = "malformed_json", 400, "the body is not JSON"
    VALIDATION_FAILED = "validation_failed", 400, "a field is missing or wrong (see fields)"
    BAD_CURSOR = "bad_cursor", 400, "the pull cursor was not one the server gave"
    UNAUTHENTICATED = "unauthenticated", 401, "no or unknown token, or not signed in"
    TOKEN_REVOKED = "token_revoked", 401, "the device's token was revoked or has expired"
    BAD_CREDENTIALS = "bad_credentials", 401, "wrong username or password"
    FORBIDDEN = "forbidden", 403, "the role or team may not do this"
    PASSWORD_CHANGE_REQUIRED = (
        "password_change_required",
        403,
        "an admin reset the password; choose a new one first",
    )
    NOT_FOUND = "not_found", 404, "no such resource"
    METHOD_NOT_ALLOWED = "method_not_allowed", 405, "wrong HTTP method (Allow lists the right ones)"
    REQUEST_TIMEOUT = "request_timeout", 408, "the body stopped arriving; send it again"
    DEVICE_MISMATCH = "device_mismatch", 409, "the body names another device than the token"
    BODY_TOO_LARGE = "body_too_large", 413, "the body is over the byte limit"
    BATCH_TOO_LARGE = "batch_too_large", 413, "the batch has too many changes"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type", 415, "the body is not application/json"
    CLOCK_DRIFT = "clock_drift", 422, "a clock is beyond the drift the server accepts"
    RATE_LIMITED = "rate_limited", 429, "too many failed sign-ins; wait Retry-After seconds"
    INTERNAL_ERROR = "internal_error", 500, "a bug on the server; retry later"
    UNAVAILABLE = (
        "unavailable",
        503,
        "the database is unreachable or busy; retry after Retry-After seconds",
    )


def codes_by_status() -> dict[int, list[Code]]:
    """Each status the API answers with, and its codes in table order."""
    table: dict[int, list[Code]] = {}
    for code in Code:
        table.setdefault(code.status, []).append(code)
    return table


_BY_STATUS = {status: codes[0] for status, codes in codes_by_status().items()}


class ApiError(Exception):
    """An error the client is told about; `extra` adds keys such as `server_time` to the body."""

    def __init__(
        self,
        code: Code,
        message: str,
        fields: dict | None = None,
        headers=None,
        extra: dict | None = None,
    ):
        super().__init__(message)
        self.code, self.message, self.fields = code, message, fields
        self.headers, self.extra = headers or {}, extra or {}


def flat_messages(messages) -> dict[str, list[str]]:
    """Marshmallow's nested errors as field -> sentences a person can read.

    {"standards": {0: ["Not a valid string."]}} becomes
    {"standards": ["Item 1: Not a valid string."]}
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
            out.extend(
                _sentences(item, prefix) if isinstance(item, (dict, list)) else [f"{prefix}{item}"]
            )
        return out
    return [f"{prefix}{value}"]


def error_response(
    code: Code, message: str, fields: dict | None = None, headers=None, extra: dict | None = None
):
    body = {"code": code.value, "message": message, **(extra or {})}
    if fields:
        body["fields"] = fields
    response = jsonify({"error": body})
    response.status_code = code.status
    response.headers.update(headers or {})
    return response


TIMEOUT_MESSAGE = "The body did not arrive in time (the connection went quiet); send it again."


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
        # Keep what the exception says in headers: Allow on a 405, Retry-After, ...
        headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
        return error_response(code, message, headers=headers)

    @app.errorhandler(TimeoutError)
    def _body_timeout(exc: TimeoutError):
        # Only a socket read (the request body, under server/worker.py's read timeout) raises
        # the builtin TimeoutError here; the database's timeouts are SQLAlchemy's own errors.
        return error_response(Code.REQUEST_TIMEOUT, TIMEOUT_MESSAGE)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        if not wants_json():
            return "Something went wrong on the server. It has been logged.", 500
        return error_response(
            Code.INTERNAL_ERROR, "Something went wrong on the server; retry later."
        )
