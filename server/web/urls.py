"""URL converters. `<int:...>` takes only ids a database column can hold (issue 11 item 10):
Werkzeug's own converter accepts any number of digits, and SQLite refuses a parameter past 64
bits with an OverflowError (a 500). A bigger number names nothing, so it is a 404."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # ids are INTEGER columns (32-bit on PostgreSQL)


class IdConverter(IntegerConverter):
    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def install_converters(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter
