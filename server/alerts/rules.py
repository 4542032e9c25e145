"""Alerts before a standard slips: each rule of the catalogue's `alerts` section, read from the
same facts as the assessment (assessment_fact, the priority loop, planned meetings, phones).

Every threshold is the catalogue's: a rule's own day counts (`days`, `within_days`,
`warn_days`) and the thresholds of its standard's measure (the "met" gap, the renewal window,
the notice a meeting needs, the feedback deadline). An alert's id names its rule, its subject
and the fact it rests on (the last record, the review date...), so a dismissal silences that
alert only: when the facts move on and the standard slips again, it is a new alert.

No alert names a member of the public: subjects are officers, teams, key contacts by role and
organisation, priorities by title (checked for personal data like every free text) and planned
meetings by their public title.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from schema.catalogue import Catalogue
from server.assessment import loop
from server.assessment.grid import force_tz, scope_for
from server.assessment.measures import DAY, contact_key, known_contacts, renewal_window, series
from server.assessment.periods import containing_moment, to_local
from server.assessment.sql import Scope
from server.clock import utcnow
from server.db import db
from server.db.models import AssessmentFact as Fact
from server.db.models import Device, PlannedMeeting, Team, User


@dataclass(frozen=True)
class Alert:
    id: str
    rule: str
    standard: str | None
    team_id: int
    team: str
    title: str
    detail: str
    officer_id: int | None = None  # the officer it is about (None: the team as a whole)
    record_ids: tuple[str, ...] = ()
    due: date | None = None  # the day the standard slips (or slipped)

    def json(self) -> dict:
        return {
            "id": self.id,
            "rule": self.rule,
            "standard": self.standard,
            "team": self.team,
            "title": self.title,
            "detail": self.detail,
            "officer_id": self.officer_id,
            "record_ids": list(self.record_ids),
            "due": self.due.isoformat() if self.due else None,
        }


@dataclass
class Context:
    """What every rule reads: the teams, now, the catalogue in force and a month's scope."""

    scope: Scope
    teams: dict[int, Team]
    names: dict[int, str] = field(default_factory=dict)  # officer id -> display name

    @property
    def now(self) -> datetime:
        return self.scope.as_of

    @property
    def catalogue(self) -> Catalogue:
        return self.scope.catalogue

    @property
    def tz(self):
        return self.scope.period.tz

    @property
    def today(self) -> date:
        return to_local(self.now, self.tz).date()

    def day(self, moment: datetime) -> date:
        return to_local(moment, self.tz).date()

    def officer(self, officer_id: int | None) -> str:
        return self.names.get(officer_id or 0, "An officer")


def _when(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _days(count: float) -> str:
    whole = int(count)
    return "1 day" if whole == 1 else f"{whole} days"


def _ago(ctx: Context, moment: datetime) -> str:
    return _days((ctx.now - moment).total_seconds() / DAY)


def _standard_title(ctx: Context, code: str) -> str:
    return str(ctx.catalogue.standard(code)["title"])


# --- the rules: each takes (ctx, alert entry, measure) and yields alerts ---------------------


def officer_gap(ctx: Context, entry: dict, measure: dict) -> Iterable[Alert]:
    """An active officer of the team with no record for the standard in the last `days` days."""
    days = entry["days"]
    since = ctx.now - timedelta(days=days)
    recent = set(
        db.session.execute(
            sa.select(Fact.team_id, Fact.officer_id)
            .where(*series(ctx.scope, measure), Fact.occurred_at >= since)
            .group_by(Fact.team_id, Fact.officer_id)
        ).all()
    )
    quiet = [
        (team, officer)
        for team, officers in ctx.scope.officers.items()
        for officer in officers
        if (team, officer) not in recent
    ]
    if not quiet:
        return
    latest = _latest_by(
        [Fact.team_id, Fact.officer_id],
        [*series(ctx.scope, measure), Fact.officer_id.in_({o for _, o in quiet})],
        ctx.now,
        set(quiet),
    )
    title = _standard_title(ctx, entry["standard"]).lower()
    for team, officer in sorted(quiet):
        last = latest.get((team, officer))
        name = ctx.officer(officer)
        detail = (
            f"Last record {_when(ctx.day(last[0]))}, {_ago(ctx, last[0])} ago."
            if last
            else "No record yet."
        )
        yield Alert(
            id=f"officer_gap:{entry['standard']}:{officer}:{last[1] if last else 'never'}",
            rule="officer_gap",
            standard=entry["standard"],
            team_id=team,
            team=ctx.teams[team].code,
            title=f"{name}: no {title} record in {days} days",
            detail=detail,
            officer_id=officer,
            record_ids=(last[1],) if last else (),
            due=ctx.day(last[0]) + timedelta(days=days) if last else None,
        )


# Most subjects' last record is recent: look back a month, then a year, then to the start,
# stopping once every subject asked about is found, so a force's alerts read weeks of facts
# rather than years of them.
LOOKBACKS = (timedelta(days=31), timedelta(days=366), None)


def _latest_by(
    keys: list, conditions: list, now: datetime, wanted: set[tuple] | None = None
) -> dict[tuple, tuple[datetime, str]]:
    """The newest (occurred_at, record id) for each value of `keys`: of every key found, or,
    given `wanted`, of those keys, searching back in LOOKBACKS until all are found."""
    found: dict[tuple, tuple[datetime, str]] = {}
    upper = None
    for lookback in LOOKBACKS if wanted is not None else (None,):
        since = now - lookback if lookback is not None else None
        window = [Fact.occurred_at >= since] if since is not None else []
        if upper is not None:
            window.append(Fact.occurred_at < upper)
        for key, newest in _newest(keys, [*conditions, *window]).items():
            found.setdefault(key, newest)  # an earlier (more recent) window's stays
        if wanted is not None and wanted <= found.keys():
            break
        upper = since
    return found if wanted is None else {k: v for k, v in found.items() if k in wanted}


def _newest(keys: list, conditions: list) -> dict[tuple, tuple[datetime, str]]:
    """One query: a window function (SQLite's bare-column max() is not PostgreSQL's)."""
    rank = (
        sa.func.row_number()
        .over(partition_by=keys, order_by=(Fact.occurred_at.desc(), Fact.record_id.desc()))
        .label("rank")
    )
    ranked = sa.select(*keys, Fact.occurred_at, Fact.record_id, rank).where(*conditions).subquery()
    width = len(keys)
    rows = db.session.execute(sa.select(ranked).where(ranked.c.rank == 1)).all()
    return {tuple(row[:width]): (row[width], row[width + 1]) for row in rows}


def team_gap(ctx: Context, entry: dict, measure: dict) -> Iterable[Alert]:
    """The time since the team's last record for the measure is past its "met" threshold (or
    within `warn_days` of it)."""
    met = measure["thresholds"]["met"]
    warn = entry.get("warn_days", 0)
    latest = _latest_by(
        [Fact.team_id], series(ctx.scope, measure), ctx.now, {(t,) for t in ctx.teams}
    )
    title = _standard_title(ctx, entry["standard"])
    for team_id, team in ctx.teams.items():
        last = latest.get((team_id,))
        if last is None:
            yield Alert(
                id=f"team_gap:{entry['standard']}:{team_id}:never",
                rule="team_gap",
                standard=entry["standard"],
                team_id=team_id,
                team=team.code,
                title=f"{title}: no record yet",
                detail=f"The standard is met with a record at least every {_days(met)}.",
            )
            continue
        since = (ctx.now - last[0]).total_seconds() / DAY
        if since <= met - warn:
            continue
        due = ctx.day(last[0] + timedelta(days=met))
        state = "past" if since > met else "close to"
        yield Alert(
            id=f"team_gap:{entry['standard']}:{team_id}:{last[1]}",
            rule="team_gap",
            standard=entry["standard"],
            team_id=team_id,
            team=team.code,
            title=f"{title}: {_days(since)} since the last record, {state} the {_days(met)} limit",
            detail=f"Last record {_when(ctx.day(last[0]))}; the standard is met with a record "
            f"at least every {_days(met)}.",
            record_ids=(last[1],),
            due=due,
        )


def meeting_not_publicised(ctx: Context, entry: dict, measure: dict) -> Iterable[Alert]:
    """A planned meeting in the next `within_days` days not publicised yet, or publicised too
    late to count (less than the measure's min_days ahead)."""
    notice = timedelta(days=measure["min_days"])
    rows = db.session.scalars(
        sa.select(PlannedMeeting).where(
            PlannedMeeting.team_id.in_(list(ctx.teams)),
            PlannedMeeting.cancelled == sa.false(),
            PlannedMeeting.starts_at >= ctx.now,
            PlannedMeeting.starts_at < ctx.now + timedelta(days=entry["within_days"]),
        )
    )
    for meeting in rows:
        published = meeting.publicised_at
        if published is not None and meeting.starts_at - published >= notice:
            continue
        start, by = ctx.day(meeting.starts_at), ctx.day(meeting.starts_at - notice)
        if published is None:
            detail = (
                f"Not publicised yet. To count it must be publicised by {_when(by)}."
                if meeting.starts_at - ctx.now >= notice
                else f"Not publicised yet, and too late to count ({_days(notice.days)} "
                "ahead needed): publicise it anyway."
            )
        else:
            ahead = (meeting.starts_at - published).total_seconds() / DAY
            detail = (
                f"Publicised {_when(ctx.day(published))}, {_days(ahead)} ahead: too late to "
                f"count ({_days(notice.days)} needed)."
            )
        yield Alert(
            id=f"meeting_not_publicised:{meeting.id}:{published or 'no'}",
            rule="meeting_not_publicised",
            standard=entry["standard"],
            team_id=meeting.team_id,
            team=ctx.teams[meeting.team_id].code,
            title=f"Meeting on {_when(start)} not publicised in time: {meeting.title}",
            detail=detail,
            due=by,
        )


def renewal_due(ctx: Context, entry: dict, measure: dict) -> Iterable[Alert]:
    """A key contact (known in the lookback window) whose renewal falls due within
    `within_days` days, or is overdue."""
    role, org = contact_key()
    _, renewed_since = renewal_window(ctx.scope, measure)
    latest = _latest_by([Fact.team_id, role, org], known_contacts(ctx.scope, measure), ctx.now)
    horizon = ctx.now + timedelta(days=entry["within_days"])
    ids = [record_id for _, record_id in latest.values()]
    who = {
        row[0]: row[1:]
        for row in db.session.execute(
            sa.select(Fact.record_id, Fact.officer_id, Fact.contact_role, Fact.contact_org).where(
                Fact.record_id.in_(ids)
            )
        )
    }
    window = timedelta(days=measure["within_days"])
    for (team_id, _, _), (last, record_id) in sorted(latest.items(), key=lambda i: i[1]):
        due_at = last + window
        if due_at > horizon:
            continue
        officer, shown_role, shown_org = who[record_id]
        name = ", ".join(p for p in (shown_role.strip(), shown_org.strip()) if p)
        overdue = last < renewed_since
        yield Alert(
            id=f"renewal_due:{entry['standard']}:{record_id}",
            rule="renewal_due",
            standard=entry["standard"],
            team_id=team_id,
            team=ctx.teams[team_id].code,
            title=f"Key contact {'overdue' if overdue else 'due'} for renewal: {name}",
            detail=f"Last met {_when(ctx.day(last))}; renew every {_days(window.days)}, so by "
            f"{_when(ctx.day(due_at))}.",
            officer_id=officer,
            record_ids=(record_id,),
            due=ctx.day(due_at),
        )


def month_short(ctx: Context, entry: dict, measure: dict) -> Iterable[Alert]:
    """In the last `within_days` days of the month, a monthly count still short of "met"
    (the team's, or each officer's for a count per officer)."""
    month = ctx.scope.period
    left = (month.end - ctx.today).days
    if left > entry["within_days"]:
        return
    met = measure["thresholds"]["met"]
    per_officer = measure.get("per") == "officer"
    keys = [Fact.team_id, Fact.officer_id] if per_officer else [Fact.team_id]
    counts = dict(
        ((row[0], row[1] if per_officer else None), row[-1])
        for row in db.session.execute(
            sa.select(*keys, sa.func.count())
            .where(*series(ctx.scope, measure), *ctx.scope.in_period())
            .group_by(*keys)
        ).all()
    )
    subjects = (
        [(t, o) for t, officers in ctx.scope.officers.items() for o in officers]
        if per_officer
        else [(t, None) for t in ctx.teams]
    )
    label = measure["label"]
    for team_id, officer in sorted(subjects, key=lambda s: (s[0], s[1] or 0)):
        have = counts.get((team_id, officer), 0)
        if have >= met:
            continue
        who = f"{ctx.officer(officer)}: " if officer else ""
        yield Alert(
            id=f"month_short:{entry['standard']}:{team_id}:{officer or '-'}:{month.label}",
            rule="month_short",
            standard=entry["standard"],
            team_id=team_id,
            team=ctx.teams[team_id].code,
            title=f"{who}{label}: {have:g} of {met:g} this month, {_days(left)} left",
            detail=f"{month.title} needs {met:g} to meet the standard.",
            officer_id=officer,
            due=month.end - timedelta(days=1),
        )


def _open_priorities(ctx: Context, kinds: Iterable[str]) -> list[loop.Priority]:
    found = loop.priorities(
        list(ctx.teams),
        ctx.catalogue,
        ctx.tz,
        before=ctx.now,
        ended_since=ctx.today + timedelta(days=1),
        linked_kinds=kinds,
        linked_until=ctx.now,
    )
    return [p for p in found if p.ended_on is None]


def _priority_name(priority: loop.Priority) -> str:
    """A priority's title, unless the record is restricted or its text was erased."""
    if priority.restricted or priority.redacted or not priority.title.strip():
        return "a local priority"
    return f"“{priority.title.strip()}”"


def _about_priority(
    ctx: Context,
    entry: dict,
    rule: str,
    priority: loop.Priority,
    title: str,
    detail: str,
    due: date,
) -> Alert:
    """An alert about one priority, for its owner; its id carries the due day, so a new review
    date (or deadline) is a new alert."""
    return Alert(
        id=f"{rule}:{entry['standard']}:{priority.id}:{due.isoformat()}",
        rule=rule,
        standard=entry["standard"],
        team_id=priority.team_id,
        team=ctx.teams[priority.team_id].code,
        title=title,
        detail=detail,
        officer_id=priority.owner_id,
        record_ids=(priority.id,),
        due=due,
    )


def feedback_due(ctx: Context, entry: dict, measure: dict) -> Iterable[Alert]:
    """An open priority with no public feedback yet whose deadline (set day + the measure's
    within_days) is within `within_days` days and not yet past."""
    for priority in _open_priorities(ctx, [loop.FEEDBACK]):
        deadline, closes = loop.feedback_window(measure, priority, ctx.tz)
        if closes <= ctx.now or (deadline - ctx.today).days > entry["within_days"]:
            continue
        if any(r.public and loop.in_time(measure, priority, r, ctx.tz) for r in priority.feedback):
            continue
        yield _about_priority(
            ctx,
            entry,
            "feedback_due",
            priority,
            f"Public feedback due by {_when(deadline)} on {_priority_name(priority)}",
            "Log a public “you said, we did” feedback record linked to the priority.",
            deadline,
        )


def review_overdue(ctx: Context, entry: dict, measure: dict) -> Iterable[Alert]:
    """An open priority whose review date has passed."""
    for priority in _open_priorities(ctx, loop.review_kinds(measure)):
        day = priority.review_by
        if day is None or day >= ctx.today:
            continue
        yield _about_priority(
            ctx,
            entry,
            "review_overdue",
            priority,
            f"Review of {_priority_name(priority)} was due {_when(day)}",
            "Review it at a priority review and set the next review date, or end it.",
            day,
        )


def phone_silent(ctx: Context, entry: dict, measure: None) -> Iterable[Alert]:
    """A phone that reported changes not yet synced and has not been heard from in `days`."""
    cutoff = ctx.now - timedelta(days=entry["days"])
    seen = sa.func.coalesce(Device.last_seen_at, Device.last_sync_at, Device.created_at)
    rows = db.session.execute(
        sa.select(Device, User.team_id)
        .join(User, User.id == Device.user_id)
        .where(
            User.team_id.in_(list(ctx.teams)),
            User.active == sa.true(),
            Device.revoked_at.is_(None),
            Device.pending > 0,
            seen < cutoff,
        )
        .order_by(Device.id)
    ).all()
    for device, team_id in rows:
        if team_id is None:  # the query keeps only users of ctx.teams
            continue
        last = device.last_seen_at or device.last_sync_at or device.created_at
        yield Alert(
            id=f"phone_silent:{device.id}:{last.isoformat()}",
            rule="phone_silent",
            standard=None,
            team_id=team_id,
            team=ctx.teams[team_id].code,
            title=f"{ctx.officer(device.user_id)}'s phone “{device.name}” has "
            f"{device.pending} unsynced change{'s' if device.pending != 1 else ''}",
            detail=f"Last heard from {_when(ctx.day(last))}, {_ago(ctx, last)} ago.",
            officer_id=device.user_id,
            due=ctx.day(last + timedelta(days=entry["days"])),
        )


# Each takes (context, the catalogue's alert entry, the measure it reads or None).
RULES: dict[str, Callable[..., Iterable[Alert]]] = {
    "officer_gap": officer_gap,
    "team_gap": team_gap,
    "meeting_not_publicised": meeting_not_publicised,
    "renewal_due": renewal_due,
    "month_short": month_short,
    "feedback_due": feedback_due,
    "review_overdue": review_overdue,
    "phone_silent": phone_silent,
}


def context(teams: list[Team], now: datetime | None = None) -> Context:
    """The month running at `now` (default: now), judged by the catalogue in force then."""
    now = now or utcnow()
    period = containing_moment(now, "month", force_tz())
    scope = scope_for(period, teams, now)
    names: dict[int, str] = dict(
        db.session.execute(
            sa.select(
                User.id, sa.func.coalesce(sa.func.nullif(User.display_name, ""), User.username)
            ).where(User.team_id.in_([t.id for t in teams]))
        ).all()
    )
    # The roster of the month's scope is the active officers now: alerts are about today.
    return Context(scope=scope, teams={t.id: t for t in teams}, names=names)


def team_alerts(teams: list[Team], now: datetime | None = None) -> list[Alert]:
    """Every alert of the catalogue in force for `teams`, soonest due first."""
    if not teams:
        return []
    ctx = context(teams, now)
    found: list[Alert] = []
    for entry in ctx.catalogue.alerts:
        measure = ctx.catalogue.alert_measure(entry)
        found.extend(RULES[entry["rule"]](ctx, entry, measure))
    return sorted(found, key=lambda a: (a.due or date.max, a.team, a.rule, a.id))
