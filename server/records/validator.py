"""The record schema as the server uses it: bound to the vocabularies and the current catalogue."""

from __future__ import annotations

from datetime import datetime, timezone

from schema import EngagementSchema
from server.catalogues import catalogues, vocabularies


def engagement_schema(now: datetime | None = None) -> EngagementSchema:
    every_code = {code for version in catalogues().versions for code in version.codes}
    return EngagementSchema(
        vocabularies=vocabularies(),
        standard_codes=every_code,
        now=now or datetime.now(timezone.utc),
    )
