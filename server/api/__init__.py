"""The JSON API under /api/v1: one blueprint per concern."""

from server.api import assessment, auth, openapi, record_schema, sync

BLUEPRINTS = (auth.bp, record_schema.bp, sync.bp, openapi.bp, assessment.bp)
