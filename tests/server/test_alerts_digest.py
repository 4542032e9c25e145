"""The daily alerts digest, sent to a real SMTP server (aiosmtpd) the test starts on loopback."""

from __future__ import annotations

import email
import socket

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from server.alerts.visible import dismiss, for_user
from server.db import db
from server.db.models import AccessLog, Team, User


class Inbox:
    """An aiosmtpd handler that keeps what it is sent, or refuses everything after `accept`."""

    def __init__(self, accept: int = 1000):
        self.messages: list = []
        self.accept = accept

    async def handle_DATA(self, server, session, envelope):
        if len(self.messages) >= self.accept:
            return "550 mailbox unavailable"
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def relay(app):
    def start(accept: int = 1000) -> Inbox:
        inbox = Inbox(accept)
        controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
        controller.start()
        started.append(controller)
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port)
        return inbox

    started: list = []
    yield start
    for controller in started:
        controller.stop()


@pytest.fixture
def people(runner, make_user):
    """Two supervisors of NPT-ONE (one with an address) and one of NPT-TWO, and officers."""
    make_user("officer", "NPT-ONE", username="pc.one")
    make_user("officer", "NPT-TWO", username="pc.two")
    make_user("supervisor", "NPT-ONE", username="sgt.one")
    make_user("supervisor", "NPT-ONE", username="sgt.nomail")
    make_user("supervisor", "NPT-TWO", username="sgt.two")
    for name, address in (("sgt.one", "one@force.example"), ("sgt.two", "two@force.example")):
        result = runner.invoke(args=["user", "email", name, address])
        assert result.exit_code == 0, result.output


def digest_log(app) -> list[AccessLog]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(AccessLog)
                .where(AccessLog.action == "alert_digest")
                .order_by(AccessLog.id)
            )
        )


def test_each_supervisor_with_an_address_gets_their_teams_alerts(app, runner, relay, people):
    inbox = relay()
    app.config["CONSOLE_URL"] = "https://beatbook.force.example/"
    result = runner.invoke(args=["alerts", "digest"])
    assert result.exit_code == 0, result.output
    assert "sent" in result.output and "sgt.nomail" not in result.output
    assert sorted(to for to, _ in inbox.messages) == [["one@force.example"], ["two@force.example"]]
    by = {to[0]: message for to, message in inbox.messages}
    one = by["one@force.example"]
    assert one["Subject"].startswith("Beatbook: ") and one["Subject"].endswith("for NPT-ONE")
    body = one.get_payload(decode=True).decode()
    assert "pc.one: no face-to-face contact record in 14 days" in body
    assert "pc.two" not in body  # another team's officer
    assert "https://beatbook.force.example/console/alerts" in body
    log = digest_log(app)
    assert [e.detail["to"] for e in log] == ["one@force.example", "two@force.example"]
    assert all(e.detail["alerts"] for e in log)


def test_a_dry_run_sends_nothing_and_a_dismissed_alert_is_left_out(app, runner, relay, people):
    inbox = relay()
    result = runner.invoke(args=["alerts", "digest", "--dry-run"])
    assert result.exit_code == 0 and "would send" in result.output
    assert inbox.messages == [] and digest_log(app) == []
    with app.app_context():
        sarge = db.session.scalar(sa.select(User).where(User.username == "sgt.one"))
        team = db.session.scalar(sa.select(Team).where(Team.code == "NPT-ONE"))
        for alert in for_user(sarge):
            dismiss(sarge, team, alert.id, "Dealt with")
        db.session.commit()
    runner.invoke(args=["alerts", "digest"])
    assert [to for to, _ in inbox.messages] == [["two@force.example"]]


def test_a_relay_that_refuses_or_is_not_there_is_a_clear_error(app, runner, relay, people):
    relay(accept=1)  # takes the first message, refuses the second
    result = runner.invoke(args=["alerts", "digest"])
    assert result.exit_code == 1
    assert "The mail relay 127.0.0.1:" in result.output and "550" in result.output
    assert len(digest_log(app)) == 1  # the one that left is logged, the refused one is not
    app.config.update(SMTP_PORT=free_port())  # nothing listens there
    result = runner.invoke(args=["alerts", "digest"])
    assert result.exit_code == 1 and "The mail relay" in result.output
    app.config["SMTP_HOST"] = None
    result = runner.invoke(args=["alerts", "digest"])
    assert result.exit_code == 1 and "BEATBOOK_SMTP_HOST is not set" in result.output


def test_user_email_refuses_what_is_not_one_address(runner, make_user):
    make_user("supervisor", "NPT-ONE", username="sgt.one")
    for bad in ("not-an-address", "a@b.c\nBcc: x@y.z", "<a@b.c>", "a@b.c, d@e.f"):
        result = runner.invoke(args=["user", "email", "sgt.one", bad])
        assert result.exit_code == 1 and "is not an email address" in result.output
    assert runner.invoke(args=["user", "email", "nobody", "a@b.co"]).exit_code == 1
    result = runner.invoke(args=["user", "email", "sgt.one", ""])
    assert result.exit_code == 0 and "gets no digest" in result.output
