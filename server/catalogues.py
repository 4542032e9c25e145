"""The vocabularies and the force's standards catalogues, loaded once per app."""

from __future__ import annotations

from flask import Flask, current_app

from schema import load_catalogues, load_vocabularies
from schema.catalogue import CatalogueSet
from schema.vocabularies import Vocabularies


def init_catalogues(app: Flask) -> None:
    vocabularies = load_vocabularies()
    catalogues = load_catalogues(
        app.config["CATALOGUE"], app.config["CATALOGUE_DIR"], vocabularies.kind_codes
    )
    app.extensions["beatbook.vocabularies"] = vocabularies
    app.extensions["beatbook.catalogues"] = catalogues


def vocabularies() -> Vocabularies:
    return current_app.extensions["beatbook.vocabularies"]


def catalogues() -> CatalogueSet:
    return current_app.extensions["beatbook.catalogues"]
