"""The record schema, vocabularies and standards catalogue the app builds its form from."""

from __future__ import annotations

import hashlib

from flask import Blueprint, request

from schema import SCHEMA_VERSION, record_schema_description
from schema.records import field_labels
from server.catalogues import catalogues, vocabularies
from server.records.validator import engagement_schema

bp = Blueprint("api_schema", __name__, url_prefix="/api/v1")


def schema_document() -> dict:
    catalogue = catalogues().current
    vocab = vocabularies()
    kinds = [
        dict(kind, standards=catalogue.default_standards(kind["code"])) for kind in vocab.kinds
    ]
    return {
        "version": f"{SCHEMA_VERSION}.{vocab.version}.{catalogue.version}",
        "schema_version": SCHEMA_VERSION,
        "record": record_schema_description(engagement_schema()),
        "labels": field_labels(),
        "kinds": kinds,
        "groups": list(vocab.groups),
        "concern_categories": list(vocab.concern_categories),
        "standards": {
            "catalogue": catalogue.name,
            "title": catalogue.raw.get("title", ""),
            "version": catalogue.version,
            "effective_from": catalogue.effective_from.isoformat(),
            "standards": [
                {k: s[k] for k in ("code", "number", "title", "description") if k in s}
                for s in catalogue.standards
            ],
        },
    }


@bp.get("/schema")
def get_schema():
    """Return the record schema, vocabularies and standards with an ETag."""
    document = schema_document()
    etag = hashlib.sha256(repr(document).encode()).hexdigest()[:20]
    if etag in request.if_none_match:
        return "", 304, {"ETag": f'"{etag}"'}
    return document, 200, {"ETag": f'"{etag}"', "Cache-Control": "no-cache"}
