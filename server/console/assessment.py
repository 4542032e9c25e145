"""Assessment pages under /console/assessment for supervisors, admins and the panel.

The grid of teams x standards, a team's page with a chart per measure over the last 12 periods,
a cell's definition and evidence, the printable evidence pack, what works, and the CSV export.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request

from server.assessment import ratings
from server.assessment.evidence import evidence
from server.assessment.exports import grid_csv
from server.assessment.grid import (
    Assessment,
    AssessmentError,
    assess_with_previous,
    first_record,
    resolve_period,
    scope_for,
    trend,
    visible_teams,
)
from server.assessment.pack import build_pack
from server.assessment.periods import KINDS, Period, containing_moment, to_local
from server.assessment.serialize import PHRASE_WITHHELD, Pseudonyms, concern_phrase
from server.assessment.whatworks import what_works
from server.catalogues import vocabularies
from server.clock import utcnow
from server.console.charts import Point, line_chart
from server.db.models import Team
from server.web.assessment_access import WITHHELD, anonymise, audit
from server.web.error_pages import PageBadRequest, PageNotFound
from server.web.session import current_user, login_required, signed_in

bp = Blueprint("assessment_pages", __name__, url_prefix="/console/assessment")
PAGE = 50
PRIORITY_STATUS_WORDS = {
    "open": "Open",
    "in_progress": "In progress",
    "resolved": "Resolved",
    "closed": "Closed without action",
}
CHANGE_WORDS = {"better": "▲ better", "worse": "▼ worse", "same": "= same"}


bp.add_app_template_global(WITHHELD, "WITHHELD")
bp.add_app_template_global(PHRASE_WITHHELD, "PHRASE_WITHHELD")


@bp.app_template_filter("rating_title")
def _rating_title(rating: str | None) -> str:
    return ratings.TITLES.get(rating or "", "—")


@bp.app_template_filter("change_words")
def _change_words(change: str | None) -> str:
    return CHANGE_WORDS.get(change or "", "")


@bp.app_template_filter("priority_status")
def _priority_status(code: str) -> str:
    return PRIORITY_STATUS_WORDS.get(code, code)


@bp.app_template_filter("concern_phrase")
def _concern_phrase(concern, hide_names: bool) -> str:
    return concern_phrase(concern, hide_names)


@bp.app_template_filter("kind_title")
def _kind_title(code: str) -> str:
    return vocabularies().title(code)


def _period(kind_default: str = "quarter") -> Period:
    try:
        return resolve_period(
            request.args.get("period"), kind=request.args.get("kind", kind_default)
        )
    except AssessmentError as exc:
        raise PageBadRequest(str(exc)) from exc


def _team(code: str) -> Team:
    try:
        return visible_teams(current_user(), code)[0]
    except AssessmentError as exc:
        raise PageNotFound() from exc


def period_nav(period: Period, teams: list[Team] | None = None, team: str | None = None) -> dict:
    """Links to the periods either side, and to the current period of each kind: (kind, that
    period, whether it is the one shown). Only the shown period itself is marked current, not
    any period of the same kind. `teams`: a team choice in the same form (`team` chosen), which
    the links keep."""
    tz = period.tz
    now = utcnow()
    later = period.next()
    currents = [(k, containing_moment(now, k, tz)) for k in KINDS]
    return {
        "period": period,
        "previous": period.previous(),
        "next": None if later.is_future(now) else later,
        "kinds": [(k, current, current.label == period.label) for k, current in currents],
        "teams": teams or [],
        "team": team,
        "keep": "&" + urlencode({"team": team}) if team else "",
    }


@bp.get("")
@login_required()
def grid():
    period = _period()
    user = current_user()
    teams = visible_teams(user)
    result = assess_with_previous(period, teams)
    return render_template("assessment/grid.html", result=result, nav=period_nav(period))


@bp.get("/grid.csv")
@login_required()
def grid_as_csv():
    period = _period()
    user = current_user()
    result = assess_with_previous(period, visible_teams(user))
    audit(user, "assessment.export_csv", "*", period=period.label)
    return Response(
        grid_csv(result),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="assessment-{period.label}.csv"'},
    )


def team_began(history: list[Assessment]) -> datetime | None:
    """The team's first counted record, for the charts of `history` (one team's periods)."""
    latest = history[-1]
    return first_record(latest.scope, latest.teams[0].team.id) if latest.scope else None


def charts_for(history: list[Assessment], code: str, began: datetime | None) -> list[dict]:
    """A chart per measure of one standard over the team's history. Periods that ended before
    the team's first record (`began`; None: no record yet) show "no records yet"; a period
    still running is marked "so far"."""
    charts = []
    latest = history[-1].teams[0].by_code[code]
    for index, measure in enumerate(latest.measures):
        points, limits = [], set()
        for a in history:
            before = began is None or a.period.end_utc <= began
            running = a.as_of < a.period.end_utc
            standard = a.teams[0].by_code.get(code)
            judged = (
                standard.measures[index] if standard and index < len(standard.measures) else None
            )
            if judged is None or judged.measure["type"] != measure.measure["type"]:
                points.append(Point(a.period.short, None, None, before, running))
                continue
            value, rating = judged.figure.value, judged.rating
            points.append(Point(a.period.short, value, rating, before, running))
            if not before:
                limits.add((judged.limits.met, judged.limits.partly_met))
        met, partly = next(iter(limits)) if len(limits) == 1 else (None, None)
        charts.append(
            {
                "label": measure.measure["label"],
                "svg": line_chart(
                    measure.measure["label"],
                    points,
                    met,
                    partly,
                    share=measure.measure["type"].startswith("share_"),
                    higher_is_better=measure.limits.higher_is_better,
                    chart_id=f"c-{code}-{index}",
                ),
                "thresholds_changed": len(limits) > 1,
            }
        )
    return charts


@bp.get("/teams/<code>")
@login_required()
def team(code: str):
    period = _period()
    found = _team(code)
    history = trend(found, period, 12)
    current = history[-1]
    began = team_began(history)
    charts = {s.code: charts_for(history, s.code, began) for s in current.teams[0].standards}
    return render_template(
        "assessment/team.html",
        result=current,
        judged=current.teams[0],
        history=history,
        charts=charts,
        nav=period_nav(period),
    )


@bp.get("/teams/<code>/standards/<standard>")
@login_required()
def cell(code: str, standard: str):
    period = _period()
    found = _team(code)
    result = assess_with_previous(period, [found])
    judged = result.teams[0].by_code.get(standard.upper())
    if judged is None:
        raise PageNotFound()
    offset = request.args.get("offset", "0")
    offset = int(offset) if offset.isdigit() else 0
    scope = scope_for(period, [found])
    lists = [evidence(scope, m.measure, found.id, PAGE, offset) for m in judged.measures]
    user = signed_in()
    audit(user, "assessment.evidence", found.code, period=period.label, standard=judged.code)
    return render_template(
        "assessment/standard.html",
        result=result,
        team=found,
        judged=judged,
        lists=lists,
        offset=offset,
        page=PAGE,
        hide_names=anonymise(user),
        alias=Pseudonyms(),
        can_open_records=user.role in ("supervisor", "admin"),
        local=lambda t: to_local(t, period.tz),
        nav=period_nav(period),
    )


@bp.get("/teams/<code>/pack")
@login_required()
def pack(code: str):
    period = _period()
    found = _team(code)
    built = build_pack(found, period)
    began = team_began(built.history)
    charts = {
        s.standard.code: charts_for(built.history, s.standard.code, began) for s in built.sections
    }
    user = signed_in()
    audit(user, "assessment.pack", found.code, period=period.label)
    return render_template(
        "assessment/pack.html",
        built=built,
        team=found,
        period=period,
        charts=charts,
        hide_names=anonymise(user),
        alias=Pseudonyms(),
        local=lambda t: to_local(t, period.tz),
        user=user,
        prepared=to_local(utcnow(), period.tz),
    )


@bp.get("/what-works")
@login_required()
def what_works_page():
    period = _period()
    user = current_user()
    code = request.args.get("team") or None
    teams = visible_teams(user)
    chosen = [t for t in teams if t.code == code] if code else teams
    if code and not chosen:
        raise PageNotFound()
    scope = scope_for(period, chosen)
    result = what_works(scope)
    return render_template(
        "assessment/what_works.html",
        result=result,
        teams=teams,
        chosen=chosen,
        code=code,
        period=period,
        nav=period_nav(period, teams, code),
        everyone=user.team_ids() is None,
    )
