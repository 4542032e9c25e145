"""Headers, CSP and templates: no inline script or style, every page under the strict policy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from console_helpers import Console, push_record, user_id

TEMPLATES = Path(__file__).resolve().parents[3] / "server" / "templates"


@pytest.mark.parametrize(
    "template", sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html"))
)
def test_templates_have_no_inline_script_or_style(template):
    text = (TEMPLATES / template).read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", text), "inline <script>"
    assert "<style" not in text and " style=" not in text
    assert not re.search(r"\son[a-z]+=", text), "inline event handler"
    assert "|safe" not in text and "Markup(" not in text


def test_console_pages_carry_strict_csp_and_security_headers(app, console, officer):
    record_id = push_record(officer)
    person: Console = console("admin", None)
    pages = [
        "/console/records",
        f"/console/records/{record_id}",
        "/console/conflicts",
        "/console/teams",
        f"/console/people/{user_id(app, 'pc.one')}",
        "/console/activity",
        "/console/access-log",
    ]
    for page in pages + ["/console/sign-in"]:
        response = (person if page in pages else Console(app)).get(page)
        assert response.status_code == 200, page
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_error_pages_are_html_in_the_layout(app, console):
    person = console("supervisor")
    response = person.get("/console/access-log")
    assert response.status_code == 403
    assert response.mimetype == "text/html"
    assert "Not for your role" in response.get_data(as_text=True)
    assert 'href="/static/console.css"' in response.get_data(as_text=True)


def test_stylesheet_is_served(app, client):
    response = client.get("/static/console.css")
    try:
        assert response.status_code == 200 and response.mimetype == "text/css"
        assert "@media (max-width: 720px)" in response.get_data(as_text=True)
    finally:
        response.close()


def test_base_layout_offers_blocks_and_nav_for_other_pages(app, console):
    """The assessment pages extend base.html: its nav links and blocks are a contract."""
    from flask import render_template_string

    person = console("panel", None)
    with app.test_request_context("/console/assessment"):
        from flask import session

        with person.client.session_transaction() as stored:
            session.update(stored)
        html = render_template_string(
            '{% extends "base.html" %}{% block title %}Grid{% endblock %}'
            '{% block content %}<p id="body">Hello</p>{% endblock %}'
        )
    assert "<title>Grid · Beatbook</title>" in html and '<p id="body">Hello</p>' in html
    assert '<a href="/console/assessment" aria-current="page">Assessment</a>' in html
    assert "Records" not in html  # panel: no page with free text


def test_console_pages_are_never_cached(app, console):
    person = console("supervisor")
    for page in ("/console/records", "/console/teams", "/console/sign-in"):
        assert person.get(page).headers["Cache-Control"] == "no-store"
