"""What a record is and what the standards are: data files plus the marshmallow schemas."""

from schema.catalogue import Catalogue, CatalogueError, load_catalogues
from schema.records import SCHEMA_VERSION, EngagementSchema, record_schema_description
from schema.vocabularies import Vocabularies, load_vocabularies

__all__ = [
    "SCHEMA_VERSION",
    "Catalogue",
    "CatalogueError",
    "EngagementSchema",
    "Vocabularies",
    "load_catalogues",
    "load_vocabularies",
    "record_schema_description",
]
