"""The daily alerts digest: one plain-text email per supervisor (and admin) with an address,
listing the undismissed alerts they would see on the console. Sent through the force's mail
relay (BEATBOOK_SMTP_*); run once a day by cron or a systemd timer (docs/operations.md).

An email is a disclosure of what the alerts say (officers' names, priorities' titles): each one
sent is in the access log, and nothing is sent to an address no one set for the account.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import sqlalchemy as sa

from server.alerts.rules import Alert
from server.alerts.visible import for_user
from server.clock import utcnow
from server.db import db
from server.db.access_log import add_entry
from server.db.models import User


class DigestError(RuntimeError):
    """The digest cannot be sent: no relay configured, or the relay refused."""


@dataclass
class Sent:
    username: str
    address: str
    alerts: int


def recipients() -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .where(
                User.role.in_(("supervisor", "admin")),
                User.active == sa.true(),
                User.email.is_not(None),
                User.email != "",
            )
            .order_by(User.username)
        )
    )


def message(user: User, alerts: list[Alert], config: dict, now: datetime) -> EmailMessage:
    teams = sorted({a.team for a in alerts})
    email = EmailMessage()
    email["Subject"] = (
        f"Beatbook: {len(alerts)} alert{'s' if len(alerts) != 1 else ''} for {', '.join(teams)}"
    )
    email["From"] = config["SMTP_FROM"]
    email["To"] = user.email
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(domain="beatbook")
    lines = [f"Hello {user.display_name or user.username},", ""]
    lines.append("These standards will slip if nothing is done:")
    for team in teams:
        lines += ["", team]
        for alert in (a for a in alerts if a.team == team):
            due = f" (due {alert.due:%d %b %Y})" if alert.due else ""
            lines += [f"- {alert.title}{due}", f"  {alert.detail}"]
    base = (config.get("CONSOLE_URL") or "").rstrip("/")
    lines += ["", "Open the console to see the records behind each and dismiss one with a note"]
    lines[-1] += f": {base}/console/alerts" if base else "."
    email.set_content("\n".join(lines) + "\n")
    return email


def send_digest(config: dict, now: datetime | None = None, dry_run: bool = False) -> list[Sent]:
    """Email each recipient with alerts their digest; returns who got what."""
    if not config.get("SMTP_HOST") and not dry_run:
        raise DigestError("BEATBOOK_SMTP_HOST is not set: there is no mail relay to send through.")
    now = now or utcnow()
    outgoing = []
    for user in recipients():
        alerts = for_user(user, now)
        if alerts:
            outgoing.append((user, alerts, message(user, alerts, config, now)))
    if dry_run or not outgoing:
        return [Sent(u.username, u.email or "", len(a)) for u, a, _ in outgoing]
    return list(_deliver(config, outgoing))


def _deliver(config: dict, outgoing: list) -> Iterable[Sent]:
    try:
        with smtplib.SMTP(
            config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=config["SMTP_TIMEOUT"]
        ) as relay:
            if config.get("SMTP_STARTTLS"):
                relay.starttls()
            if config.get("SMTP_USER"):
                relay.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
            for user, alerts, email in outgoing:
                relay.send_message(email)
                # Logged as each one leaves: a relay failing midway leaves the log true.
                add_entry(
                    "alert_digest",
                    user_id=user.id,
                    target_type="alerts",
                    detail={"to": user.email, "alerts": [a.id for a in alerts]},
                )
                db.session.commit()
                yield Sent(user.username, user.email or "", len(alerts))
    except (OSError, smtplib.SMTPException) as exc:
        raise DigestError(
            f"The mail relay {config['SMTP_HOST']}:{config['SMTP_PORT']}: {exc}"
        ) from exc
