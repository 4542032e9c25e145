"""The vocabularies and the force's standards catalogues, loaded once per app."""

from __future__ import annotations

from flask import Flask, current_app

from schema import load_catalogues, load_vocabularies
from schema.catalogue import CatalogueError, CatalogueSet
from schema.vocabularies import Vocabularies


def init_catalogues(app: Flask) -> None:
    from server.config import ConfigError

    vocabularies = load_vocabularies()
    try:
        catalogues = load_catalogues(
            app.config["CATALOGUE"], app.config["CATALOGUE_DIR"], vocabularies.kind_codes
        )
    except CatalogueError as exc:
        # A mistyped name or a broken force file is a configuration mistake, said in one line.
        raise ConfigError(
            f"BEATBOOK_CATALOGUE: {exc} (e.g. BEATBOOK_CATALOGUE=dorset, or "
            "BEATBOOK_CATALOGUE_DIR=a folder holding the force's own file)"
        ) from None
    app.extensions["beatbook.vocabularies"] = vocabularies
    app.extensions["beatbook.catalogues"] = catalogues


def vocabularies() -> Vocabularies:
    return current_app.extensions["beatbook.vocabularies"]


def catalogues() -> CatalogueSet:
    return current_app.extensions["beatbook.catalogues"]
