"""Assessments, evidence and what-works as JSON-ready dicts (the API, exports and the CLI share
them). For the panel role, officer names are removed: evidence keeps the record summaries, and
per-officer breakdowns become "Officer 1", "Officer 2"...
"""

from __future__ import annotations

from datetime import date, datetime

from server.assessment import ratings
from server.assessment.evidence import Evidence, PriorityDetail
from server.assessment.grid import Assessment, MeasureResult, StandardResult, TeamAssessment
from server.assessment.periods import Period, to_local
from server.assessment.whatworks import Answered, Raised, Row, WhatWorks
from server.catalogues import vocabularies
from server.clock import iso
from server.db.models import Team
from server.records.redaction import RESTRICTED
from server.web.assessment_access import panel_summary


def plain(value):
    """Detail values (datetimes, dicts of counts) as JSON."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def period_json(period: Period | None) -> dict | None:
    if period is None:
        return None
    return {
        "label": period.label,
        "kind": period.kind,
        "title": period.title,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "start_utc": iso(period.start_utc),
        "end_utc": iso(period.end_utc),
    }


def measure_json(m: MeasureResult) -> dict:
    limits = m.limits
    return {
        "type": m.measure["type"],
        "label": m.measure["label"],
        "value": m.figure.value,
        "numerator": m.figure.numerator,
        "denominator": m.figure.denominator,
        "text": m.text,
        "rating": m.rating,
        "rating_title": ratings.TITLES[m.rating],
        "thresholds": {
            "met": limits.met,
            "partly_met": limits.partly_met,
            "higher_is_better": limits.higher_is_better,
            "per_month": dict(zip(("met", "partly_met"), limits.per_month))
            if limits.per_month
            else None,
        },
        "threshold_text": m.threshold_text,
        "detail": plain(m.figure.detail),
    }


def standard_json(s: StandardResult, with_definition: bool = False) -> dict:
    body = {
        "code": s.code,
        "number": s.standard.get("number"),
        "title": s.standard["title"],
        "rating": s.rating,
        "rating_title": ratings.TITLES[s.rating],
        "colour": ratings.COLOURS[s.rating],
        "figure": s.headline.text,
        "previous_rating": s.previous,
        "change": s.change,
        "measures": [measure_json(m) for m in s.measures],
    }
    if with_definition:
        body["description"] = s.standard.get("description", "")
    return body


def team_ref(team: Team) -> dict:
    return {"code": team.code, "name": team.name, "area": team.area}


def team_json(t: TeamAssessment) -> dict:
    return {
        **team_ref(t.team),
        "grade": t.grade,
        "previous_grade": t.previous_grade,
        "grade_change": t.grade_change,
        "counts": t.counts,
        "standards": [standard_json(s) for s in t.standards],
    }


def catalogue_json(catalogue) -> dict:
    return {
        "name": catalogue.name,
        "version": catalogue.version,
        "title": catalogue.raw.get("title", ""),
        "effective_from": catalogue.effective_from.isoformat(),
    }


def assessment_json(a: Assessment) -> dict:
    return {
        "period": period_json(a.period),
        "previous_period": period_json(a.previous_period),
        "as_of": iso(a.as_of),
        "catalogue": catalogue_json(a.catalogue),
        "standards": [
            {
                "code": s["code"],
                "number": s.get("number"),
                "title": s["title"],
                "description": s.get("description", ""),
            }
            for s in a.catalogue.standards
        ],
        "teams": [team_json(t) for t in a.teams],
    }


def trend_json(history: list[Assessment], code: str) -> list[dict]:
    """One team's series per standard over periods: rating and each measure's value."""
    series = []
    for a in history:
        team = a.teams[0]
        standard = team.by_code.get(code)
        series.append(
            {
                "period": a.period.label,
                "rating": standard.rating if standard else None,
                "values": [m.figure.value for m in standard.measures] if standard else [],
                "grade": team.grade["grade"],
            }
        )
    return series


class Pseudonyms:
    """Stable 'Officer 1', 'Officer 2' labels within one response, for the panel role."""

    def __init__(self):
        self.names: dict[object, str] = {}

    def __call__(self, key) -> str:
        return self.names.setdefault(key, f"Officer {len(self.names) + 1}")


PHRASE_WITHHELD = "phrase withheld until a supervisor has approved the record"


def concern_phrase(concern, anonymise: bool) -> str:
    """A concern's phrase as the reader may see it: withheld from the panel until a supervisor
    approved the record it was raised on, never shown from a restricted record."""
    if not concern.phrase:
        return ""
    if concern.restricted:
        return RESTRICTED
    if anonymise and concern.review_state != "approved":
        return PHRASE_WITHHELD
    return concern.phrase


def priority_json(detail: PriorityDetail | None, tz, anonymise: bool) -> dict | None:
    """A local priority's loop in the evidence: its concerns, actions and feedback."""
    if detail is None:
        return None
    titles = vocabularies().title

    def answer(a) -> dict:
        body = {
            "id": a.record_id,
            "kind": a.kind,
            "kind_title": titles(a.kind),
            "occurred_at": iso(a.occurred_at),
            "date": to_local(a.occurred_at, tz).date().isoformat(),
            "public": a.public,
        }
        if a.in_time is not None:
            body["in_time"] = a.in_time
        return body

    return {
        "status": detail.status,
        "set_on": detail.set_day.isoformat(),
        "deadline": detail.deadline.isoformat(),
        "ended_on": detail.ended_on.isoformat() if detail.ended_on else None,
        "owner": None if anonymise else detail.owner,
        "concerns": [
            {
                "record_id": c.record_id,
                "category": c.category,
                "category_title": titles(c.category),
                "phrase": concern_phrase(c, anonymise),
            }
            for c in detail.concerns
        ],
        "actions": [answer(a) for a in detail.actions],
        "feedback": [answer(a) for a in detail.feedback],
    }


def evidence_json(ev: Evidence, tz, anonymise: bool) -> dict:
    kinds = vocabularies().title
    alias = Pseudonyms()
    return {
        "total": ev.total,
        "not_approved": ev.not_approved,
        "lines": ev.lines,
        "breakdown_of": ev.breakdown_of,
        "breakdown": [
            {
                "label": alias(label) if anonymise and ev.breakdown_of == "officer" else label,
                "count": count,
            }
            for label, count in ev.breakdown
        ],
        "records": [
            {
                "id": item.record_id,
                "occurred_at": iso(item.occurred_at),
                "occurred_local": to_local(item.occurred_at, tz).isoformat(),
                "kind": item.kind,
                "kind_title": kinds(item.kind),
                "summary": panel_summary(item.summary, item.review_state)
                if anonymise
                else item.summary,
                "officer": None if anonymise else item.officer,
                "people_count": item.people_count,
                "duration_minutes": item.duration_minutes,
                "review_state": item.review_state,
                "groups": item.groups,
                "note": item.panel_note if anonymise and item.panel_note is not None else item.note,
                "counts": item.counts,
                "longest_gap": item.longest,
                "priority": priority_json(item.priority, tz, anonymise),
            }
            for item in ev.items
        ],
    }


def row_json(row: Row) -> dict:
    per_hour = row.people_per_hour
    return {
        "kind": row.kind,
        "kind_title": vocabularies().title(row.kind),
        "broadcast": bool((vocabularies().kind(row.kind) or {}).get("broadcast")),
        "engagements": row.engagements,
        "people": row.people,
        "groups_reached": len(row.groups),
        "officer_hours": round(row.minutes / 60, 1),
        "people_per_officer_hour": round(per_hour, 2) if per_hour is not None else None,
    }


def what_works_json(result: WhatWorks, teams: list[Team]) -> dict:
    titles = vocabularies().title

    def block(rows: dict[str, Row]) -> dict:
        ordered = sorted(rows.values(), key=lambda r: -r.engagements)
        return {
            "kinds": [row_json(r) for r in ordered],
            "seldom_heard": [
                {
                    "group": code,
                    "title": titles(code),
                    **{k: v for k, v in entry.items() if k != "kinds"},
                    "kinds": entry["kinds"],
                }
                for code, entry in result.seldom(rows).items()
            ],
        }

    def raised(rows: dict[str, Raised]) -> list[dict]:
        ordered = sorted(rows.values(), key=lambda r: (-len(r.priorities), r.kind))
        return [
            {
                "kind": r.kind,
                "kind_title": titles(r.kind),
                "records": len(r.records),
                "priorities": len(r.priorities),
            }
            for r in ordered
        ]

    def answered(rows: dict[str, Answered]) -> list[dict]:
        ordered = sorted(rows.values(), key=lambda r: (-r.priorities, r.kind))
        return [
            {
                "kind": r.kind or None,
                "kind_title": titles(r.kind) if r.kind else "No action recorded",
                "priorities": r.priorities,
                "fed_back": len(r.days),
                "median_days_to_feedback": r.median_days,
            }
            for r in ordered
        ]

    def loops(team_id: int | None) -> dict:
        if team_id is None:
            return {
                "concerns_raised_by": raised(result.raised),
                "feedback_by_action": answered(result.answered),
            }
        return {
            "concerns_raised_by": raised(result.raised_by_team.get(team_id, {})),
            "feedback_by_action": answered(result.answered_by_team.get(team_id, {})),
        }

    return {
        "force": {**block(result.force), **loops(None)},
        "teams": [
            {**team_ref(t), **block(result.by_team.get(t.id, {})), **loops(t.id)} for t in teams
        ],
    }
