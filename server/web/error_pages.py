"""HTML error pages for the console, rendered in the layout rather than werkzeug's bare pages."""

from __future__ import annotations

from flask import render_template
from werkzeug.exceptions import BadRequest, Forbidden, NotFound


class _PageError:
    template = "console/error.html"
    heading = ""

    def get_body(self, environ=None, scope=None) -> str:
        return render_template(
            self.template, heading=self.heading, message=self.description, status=self.code
        )

    def get_headers(self, environ=None, scope=None):
        return [("Content-Type", "text/html; charset=utf-8")]


class PageForbidden(_PageError, Forbidden):
    heading = "Not for your role"
    description = "Your role cannot open this page. Ask an administrator if you need it."


class PageNotFound(_PageError, NotFound):
    heading = "Not found"
    description = "There is nothing here, or it belongs to a team you do not supervise."


class PageBadRequest(_PageError, BadRequest):
    heading = "That did not work"
