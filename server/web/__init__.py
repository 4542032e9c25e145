"""What every HTML page and the API share at the HTTP edge: CSRF, the layout, the console
session, the access log, time formatting, marked-up text, error pages, security headers and the
refusal of text no database can hold."""

from __future__ import annotations

from flask import Flask

from server.db.access_log import commit_logged_reads
from server.web.csrf import init_csrf
from server.web.input_text import init_input_text
from server.web.layout import init_layout
from server.web.marks import init_marks
from server.web.security import register_security_headers
from server.web.timefmt import init_time_filters


def init_app(app: Flask) -> None:
    """Install the app-wide hooks every page relies on (console and assessment alike)."""
    init_input_text(app)  # before CSRF, which reads the form
    init_csrf(app)
    init_layout(app)
    init_time_filters(app)
    init_marks(app)
    register_security_headers(app)
    app.after_request(commit_logged_reads)
