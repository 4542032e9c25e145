"""The OpenAPI document, built from the same marshmallow schemas the endpoints validate with."""

from __future__ import annotations

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, current_app

from schema.wire import (
    ChangeSchema,
    DeviceHandoffSchema,
    DeviceRenameSchema,
    DeviceSignInSchema,
    ErrorBodySchema,
    PullQuerySchema,
    PushRequestSchema,
    QueueKeySchema,
)
from server.errors import codes_by_status

bp = Blueprint("api_openapi", __name__)


# One alert as a pull carries it (server/alerts/rules.py Alert.json).
ALERT = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "rule": {"type": "string"},
        "standard": {"type": "string", "nullable": True},
        "team": {"type": "string"},
        "title": {"type": "string"},
        "detail": {"type": "string"},
        "officer_id": {"type": "integer", "nullable": True},
        "record_ids": {"type": "array", "items": {"type": "string"}},
        "due": {"type": "string", "format": "date", "nullable": True},
    },
    "required": [
        "id",
        "rule",
        "standard",
        "team",
        "title",
        "detail",
        "officer_id",
        "record_ids",
        "due",
    ],
}


def add_paths(app: Flask, paths: dict[str, dict]) -> None:
    """Document the paths of a blueprint registered beside the core API (assessment, ...)."""
    app.extensions.setdefault("beatbook.openapi_paths", {}).update(paths)


def _errors(*statuses: str) -> dict:
    """Error responses described from the one error table (server.errors.Code)."""
    table = codes_by_status()
    return {
        s: {
            "description": "; ".join(f"{code.value}: {code.meaning}" for code in table[int(s)]),
            "content": {"application/json": {"schema": "ErrorBody"}},
            **(
                {"headers": {"Retry-After": {"schema": {"type": "integer"}}}}
                if s in ("429", "503")
                else {}
            ),
        }
        for s in statuses
    }


def _body(schema: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _add_database_errors(paths: dict) -> None:
    """503 on every operation that reads the database (all but the schema and this document),
    408 on those with a body."""
    for path, operations in paths.items():
        if path in ("/api/v1/schema", "/api/openapi.json"):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.update({k: v for k, v in _errors("503").items() if k not in responses})
            if "requestBody" in operation and "408" not in responses:
                responses.update(_errors("408"))


def _json(description: str, schema: dict | str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def build_spec() -> dict:
    spec = APISpec(
        title="Beatbook API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "Sync, schema and assessment API. See docs/sync-protocol.md."},
    )
    spec.components.security_scheme("device", {"type": "http", "scheme": "bearer"})
    for name, schema in (
        ("DeviceSignIn", DeviceSignInSchema),
        ("DeviceRename", DeviceRenameSchema),
        ("QueueKey", QueueKeySchema),
        ("DeviceHandoff", DeviceHandoffSchema),
        ("Change", ChangeSchema),
        ("PushRequest", PushRequestSchema),
        ("ErrorBody", ErrorBodySchema),
    ):
        spec.components.schema(name, schema=schema)
    result = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "hlc": {"type": "string"},
            "status": {
                "type": "string",
                "enum": ["applied", "merged", "conflict", "duplicate", "rejected"],
            },
            "rev": {"type": "integer", "nullable": True},
            "errors": {"type": "object"},
            "conflicts": {"type": "array", "items": {"type": "object"}},
        },
    }
    spec.path(
        path="/api/v1/auth/device",
        operations={
            "post": {
                "summary": "Sign a device in; returns its bearer token.",
                "requestBody": _body("DeviceSignIn"),
                "responses": {
                    "201": _json("Signed in", {"type": "object"}),
                    **_errors("400", "401", "403", "415", "429"),
                },
            },
            "patch": {
                "summary": "Rename the calling device (the name supervisors see).",
                "security": [{"device": []}],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": "DeviceRename"}},
                },
                "responses": {
                    "200": _json("Renamed", {"type": "object"}),
                    **_errors("400", "401", "415"),
                },
            },
            "delete": {
                "summary": "Sign the calling device out (revoke its token).",
                "security": [{"device": []}],
                "responses": {"204": {"description": "Signed out"}, **_errors("401")},
            },
        },
    )
    spec.path(
        path="/api/v1/auth/device/queue-key",
        operations={
            "post": {
                "summary": "The key that opens this phone's encrypted queue (signed-in devices).",
                "security": [{"device": []}],
                "requestBody": _body("QueueKey"),
                "responses": {
                    "200": _json("The key", {"type": "object"}),
                    **_errors("400", "401", "415"),
                },
            },
        },
    )
    spec.path(
        path="/api/v1/auth/methods",
        operations={
            "get": {
                "summary": "How this server signs people in: passwords, single sign-on, or both.",
                "responses": {
                    "200": _json(
                        "Sign-in methods",
                        {
                            "type": "object",
                            "properties": {
                                "password": {"type": "boolean"},
                                "sso": {"type": "object", "nullable": True},
                            },
                        },
                    )
                },
            }
        },
    )
    spec.path(
        path="/api/v1/auth/device/sso",
        operations={
            "post": {
                "summary": "Exchange a single sign-on's one-time code for a device token.",
                "requestBody": _body("DeviceHandoff"),
                "responses": {
                    "201": _json("Signed in", {"type": "object"}),
                    **_errors("400", "401", "404", "415"),
                },
            }
        },
    )
    spec.path(
        path="/api/v1/schema",
        operations={
            "get": {
                "summary": "Record schema, vocabularies and standards catalogue (ETag).",
                "responses": {
                    "200": _json("The schema", {"type": "object"}),
                    "304": {"description": "Not modified"},
                },
            }
        },
    )
    spec.path(
        path="/api/v1/sync/push",
        operations={
            "post": {
                "summary": "Push a batch of changes; one result per change.",
                "security": [{"device": []}],
                "requestBody": _body("PushRequest"),
                "responses": {
                    "200": _json(
                        "Results",
                        {
                            "type": "object",
                            "properties": {
                                "batch_id": {"type": "string"},
                                "results": {"type": "array", "items": result},
                                "server_time": {"type": "string", "format": "date-time"},
                                "server_hlc": {"type": "string"},
                            },
                        },
                    ),
                    **_errors("400", "401", "403", "409", "413", "415"),
                },
            }
        },
    )
    spec.path(
        path="/api/v1/sync/pull",
        operations={
            "get": {
                "summary": "Records changed since a cursor, in commit order.",
                "security": [{"device": []}],
                "parameters": [{"in": "query", "schema": PullQuerySchema}],
                "responses": {
                    "200": _json(
                        "Changes",
                        {
                            "type": "object",
                            "properties": {
                                "changes": {"type": "array", "items": {"type": "object"}},
                                "cursor": {"type": "string"},
                                "more": {"type": "boolean"},
                                "alerts": {
                                    "description": "On the last page only (more is false): the "
                                    "undismissed alerts this user sees (an officer: their own "
                                    "and their team's), soonest due first.",
                                    "type": "array",
                                    "items": ALERT,
                                },
                            },
                        },
                    ),
                    **_errors("400", "401", "403"),
                },
            }
        },
    )
    for path, operations in current_app.extensions.get("beatbook.openapi_paths", {}).items():
        spec.path(path=path, operations=operations)
    document = spec.to_dict()
    _add_database_errors(document["paths"])
    return document


@bp.get("/api/openapi.json")
def openapi_document():
    """Serve the OpenAPI document."""
    return build_spec()
