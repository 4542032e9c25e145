"""The console's standard and group filters read a catch-up index (server/records/codes.py):
they bring it up to date first, so a record pushed a moment ago is found by them."""

from __future__ import annotations

import sqlalchemy as sa
from console_helpers import Console, record_links
from helpers import create_change, push_edit

from server.db import db
from server.db.models import CatchUpState, Record
from server.records import codes


def test_every_reader_sees_a_record_pushed_a_moment_ago(app, device, make_user):
    """Zero staleness for the reader who asks, after a create and after an edit that moves
    the record's codes."""
    change = create_change(device, kind="key_contact", standards=["KCL"], groups=["faith_groups"])
    change["data"].update(contact_role="Imam", contact_org="Central Mosque")
    assert device.push([change]).get_json()["results"][0]["status"] == "applied"
    supervisor = Console(app, make_user("supervisor", "NPT-ONE"))
    assert change["id"] in record_links(supervisor.text("/console/records?standard=KCL"))
    edited = push_edit(device, change["id"], 1, standards=["F2F"], groups=["young_people"])
    assert edited["rev"] == 2
    assert change["id"] not in record_links(supervisor.text("/console/records?standard=KCL"))
    assert change["id"] in record_links(supervisor.text("/console/records?group=young_people"))
    with app.app_context():
        mark = db.session.scalar(sa.select(CatchUpState.seq).where(CatchUpState.name == codes.NAME))
        assert mark == db.session.scalar(sa.select(sa.func.max(Record.seq)))
