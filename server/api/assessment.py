"""The assessment JSON API under /api/v1/assessment (supervisors, admins, panel).

GET /api/v1/assessment?period=2026-Q3[&kind=quarter][&team=CODE]   the grid
GET /api/v1/assessment/grid.csv?period=...                           the grid as CSV
GET /api/v1/assessment/teams/CODE?period=...&periods=12              one team and its trend
GET /api/v1/assessment/teams/CODE/standards/STD?period=&limit=&offset=   a cell and its evidence
GET /api/v1/assessment/teams/CODE/pack?period=...                    the evidence pack
GET /api/v1/assessment/what-works?period=...[&team=CODE]             what works
"""

from __future__ import annotations

from flask import Blueprint, Response, g, request

from server.assessment import serialize
from server.assessment.evidence import evidence
from server.assessment.exports import grid_csv
from server.assessment.grid import (
    AssessmentError,
    assess_with_previous,
    resolve_period,
    scope_for,
    trend,
    visible_teams,
)
from server.assessment.pack import build_pack
from server.assessment.whatworks import what_works
from server.errors import ApiError, Code
from server.web.assessment_access import anonymise, audit, signed_in

bp = Blueprint("assessment_api", __name__, url_prefix="/api/v1/assessment")


def _int(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiError(
            Code.VALIDATION_FAILED,
            f"{name} must be a whole number from {low} to {high}.",
            {name: [f"Must be {low}..{high}."]},
        )
    return int(raw)


def _period():
    try:
        return resolve_period(request.args.get("period"), kind=request.args.get("kind", "quarter"))
    except AssessmentError as exc:
        raise ApiError(Code.VALIDATION_FAILED, str(exc), {"period": [str(exc)]}) from exc


def _teams(code: str | None = None):
    try:
        return visible_teams(g.user, code)
    except AssessmentError as exc:
        raise ApiError(Code.NOT_FOUND, str(exc)) from exc


def _grid():
    period = _period()
    code = request.args.get("team")
    teams = _teams(code)
    return assess_with_previous(period, teams)


@bp.get("")
@signed_in
def grid():
    """Teams x standards for a period: rating, figure, change and grade for each team."""
    return serialize.assessment_json(_grid())


@bp.get("/grid.csv")
@signed_in
def grid_as_csv():
    result = _grid()
    audit(g.user, "assessment.export_csv", "*", period=result.period.label)
    return Response(
        grid_csv(result),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="assessment-{result.period.label}.csv"'
        },
    )


@bp.get("/teams/<code>")
@signed_in
def team(code: str):
    """One team: its assessment for the period (with change) and each standard's trend."""
    period = _period()
    (found,) = _teams(code)
    history = trend(found, period, _int("periods", 12, 1, 36))
    current = history[-1]
    return {
        "period": serialize.period_json(period),
        "catalogue": serialize.catalogue_json(current.catalogue),
        "team": serialize.team_json(current.teams[0]),
        "periods": [a.period.label for a in history],
        "trend": {code: serialize.trend_json(history, code) for code in current.catalogue.codes},
    }


@bp.get("/teams/<code>/standards/<standard>")
@signed_in
def cell(code: str, standard: str):
    """A cell of the grid: the standard's definition, figures, thresholds and evidence."""
    period = _period()
    (found,) = _teams(code)
    result = assess_with_previous(period, [found])
    judged = result.teams[0].by_code.get(standard.upper())
    if judged is None:
        raise ApiError(
            Code.NOT_FOUND,
            f"No standard {standard.upper()} in {result.catalogue.name} "
            f"version {result.catalogue.version}.",
        )
    limit, offset = _int("limit", 50, 1, 500), _int("offset", 0, 0, 10_000_000)
    scope = scope_for(period, [found])
    hidden = anonymise(g.user)
    audit(g.user, "assessment.evidence", found.code, period=period.label, standard=judged.code)
    return {
        "team": serialize.team_ref(found),
        "period": serialize.period_json(period),
        "catalogue": serialize.catalogue_json(result.catalogue),
        "standard": serialize.standard_json(judged, with_definition=True),
        "evidence": [
            serialize.evidence_json(
                evidence(scope, m.measure, found.id, limit, offset), period.tz, hidden
            )
            for m in judged.measures
        ],
    }


@bp.get("/teams/<code>/pack")
@signed_in
def pack(code: str):
    """The evidence pack: a self-evaluation per standard, figures, trend and sample evidence."""
    period = _period()
    (found,) = _teams(code)
    built = build_pack(found, period)
    hidden = anonymise(g.user)
    audit(g.user, "assessment.pack", found.code, period=period.label)
    return {
        "team": serialize.team_json(built.team),
        "period": serialize.period_json(period),
        "catalogue": serialize.catalogue_json(built.assessment.catalogue),
        "periods": [a.period.label for a in built.history],
        "standards": [
            {
                **serialize.standard_json(section.standard, with_definition=True),
                "summary": section.summary,
                "trend": serialize.trend_json(built.history, section.standard.code),
                "samples": [
                    serialize.evidence_json(ev, period.tz, hidden) for ev in section.samples
                ],
            }
            for section in built.sections
        ],
    }


@bp.get("/what-works")
@signed_in
def what_works_view():
    """Per kind of engagement, per team and force-wide: what reached whom for the time given."""
    period = _period()
    code = request.args.get("team")
    teams = _teams(code)
    scope = scope_for(period, teams)
    return {
        "period": serialize.period_json(period),
        **serialize.what_works_json(what_works(scope), teams),
    }
