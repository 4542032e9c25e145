"""The assessment API in the OpenAPI document: `paths()`, which create_app adds to the document
when it registers the assessment blueprint, so the document says what is served."""

from __future__ import annotations

ERROR = {"content": {"application/json": {"schema": "ErrorBody"}}}
ERRORS = {
    "400": "validation_failed: a malformed period, one not started yet, or one before the first "
    "catalogue took effect (see fields.period)",
    "401": "unauthenticated or token_revoked: send a device token or sign in to the console",
    "403": "forbidden: only supervisors, admins and the panel see assessments",
    "404": "not_found: no such team (or standard) that you can see",
}
SECURITY: list[dict[str, list[str]]] = [{"device": []}]  # or the console session cookie
NUMBER = {"type": "number", "nullable": True}
RATING = {"type": "string", "enum": ["met", "partly_met", "not_met"]}
CHANGE = {"type": "string", "enum": ["better", "worse", "same"], "nullable": True}
PERIOD = {
    "type": "object",
    "properties": {
        "label": {"type": "string", "example": "2026-Q3"},
        "kind": {"type": "string", "enum": ["week", "month", "quarter", "year"]},
        "title": {"type": "string", "example": "Q3 2026 (Jul-Sep)"},
        "start": {"type": "string", "format": "date"},
        "end": {"type": "string", "format": "date"},
        "start_utc": {"type": "string", "format": "date-time"},
        "end_utc": {"type": "string", "format": "date-time"},
    },
}
CATALOGUE = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "version": {"type": "string"},
        "title": {"type": "string"},
        "effective_from": {"type": "string", "format": "date"},
    },
}
MEASURE = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "label": {"type": "string"},
        "value": NUMBER,
        "numerator": NUMBER,
        "denominator": NUMBER,
        "text": {"type": "string"},
        "rating": RATING,
        "rating_title": {"type": "string"},
        "thresholds": {
            "type": "object",
            "properties": {
                "met": {"type": "number"},
                "partly_met": {"type": "number"},
                "higher_is_better": {"type": "boolean"},
                "per_month": {"type": "object", "nullable": True},
            },
        },
        "threshold_text": {"type": "string"},
        "detail": {"type": "object"},
    },
}
STANDARD = {
    "type": "object",
    "properties": {
        "code": {"type": "string"},
        "number": {"type": "integer"},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "rating": RATING,
        "rating_title": {"type": "string"},
        "colour": {"type": "string", "enum": ["green", "amber", "red"]},
        "figure": {"type": "string", "example": "17.3 per officer"},
        "previous_rating": {**RATING, "nullable": True},
        "change": CHANGE,
        "measures": {"type": "array", "items": MEASURE},
    },
}
GRADE = {"type": "object", "properties": {"grade": {"type": "string"}, "title": {"type": "string"}}}
TEAM = {
    "type": "object",
    "properties": {
        "code": {"type": "string"},
        "name": {"type": "string"},
        "area": {"type": "string"},
        "grade": GRADE,
        "previous_grade": {**GRADE, "nullable": True},
        "grade_change": CHANGE,
        "counts": {
            "type": "object",
            "properties": {k: {"type": "integer"} for k in RATING["enum"]},
        },
        "standards": {"type": "array", "items": STANDARD},
    },
}
LINKED = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "kind": {"type": "string"},
        "kind_title": {"type": "string"},
        "occurred_at": {"type": "string", "format": "date-time"},
        "date": {"type": "string", "format": "date"},
        "public": {"type": "boolean"},
        "in_time": {
            "type": "boolean",
            "description": "feedback dated from the set time to the deadline day's end "
            "(share_fed_back only)",
        },
    },
}
PRIORITY = {
    "type": "object",
    "nullable": True,
    "description": "for the loop measures (share_fed_back, share_reviewed_on_time): the "
    "priority's concerns, the records linked to it as actions, and its feedback",
    "properties": {
        "status": {"type": "string", "enum": ["open", "in_progress", "resolved", "closed"]},
        "set_on": {"type": "string", "format": "date"},
        "deadline": {
            "type": "string",
            "format": "date",
            "description": "feedback due by (share_fed_back) or the review date",
        },
        "ended_on": {"type": "string", "format": "date", "nullable": True},
        "owner": {"type": "string", "nullable": True, "description": "null for the panel"},
        "concerns": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "record_id": {"type": "string"},
                    "category": {"type": "string"},
                    "category_title": {"type": "string"},
                    "phrase": {
                        "type": "string",
                        "description": "withheld from the panel until the record is approved",
                    },
                },
            },
        },
        "actions": {"type": "array", "items": LINKED},
        "feedback": {"type": "array", "items": LINKED},
    },
}
EVIDENCE = {
    "type": "object",
    "properties": {
        "total": {"type": "integer"},
        "lines": {"type": "array", "items": {"type": "string"}},
        "breakdown_of": {"type": "string", "enum": ["", "officer", "group"]},
        "breakdown": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"label": {"type": "string"}, "count": {"type": "integer"}},
            },
        },
        "records": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "occurred_at": {"type": "string", "format": "date-time"},
                    "occurred_local": {"type": "string", "format": "date-time"},
                    "kind": {"type": "string"},
                    "kind_title": {"type": "string"},
                    "summary": {"type": "string"},
                    "officer": {
                        "type": "string",
                        "nullable": True,
                        "description": "null for the panel role: officer names are removed",
                    },
                    "people_count": {"type": "integer", "nullable": True},
                    "duration_minutes": {"type": "integer", "nullable": True},
                    "review_state": {"type": "string"},
                    "groups": {"type": "array", "items": {"type": "string"}},
                    "note": {"type": "string"},
                    "counts": {"type": "boolean"},
                    "longest_gap": {"type": "boolean"},
                    "priority": PRIORITY,
                },
            },
        },
    },
}
TREND = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "period": {"type": "string"},
            "rating": {**RATING, "nullable": True},
            "values": {"type": "array", "items": NUMBER},
            "grade": {"type": "string"},
        },
    },
}
KIND_ROW = {
    "type": "object",
    "properties": {
        "kind": {"type": "string"},
        "kind_title": {"type": "string"},
        "engagements": {"type": "integer"},
        "people": {"type": "integer"},
        "groups_reached": {"type": "integer"},
        "officer_hours": {"type": "number"},
        "people_per_officer_hour": NUMBER,
    },
}
WORKS_BLOCK = {
    "kinds": {"type": "array", "items": KIND_ROW},
    "concerns_raised_by": {
        "type": "array",
        "description": "priorities set in the period, by the kind of record that raised the "
        "concerns behind them",
        "items": {
            "type": "object",
            "properties": {
                "kind": {"type": "string"},
                "kind_title": {"type": "string"},
                "records": {"type": "integer"},
                "priorities": {"type": "integer"},
            },
        },
    },
    "feedback_by_action": {
        "type": "array",
        "description": "priorities set in the period by kind of action linked to them (null: "
        "none), and the median local days from set to first public feedback",
        "items": {
            "type": "object",
            "properties": {
                "kind": {"type": "string", "nullable": True},
                "kind_title": {"type": "string"},
                "priorities": {"type": "integer"},
                "fed_back": {"type": "integer"},
                "median_days_to_feedback": NUMBER,
            },
        },
    },
    "seldom_heard": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "group": {"type": "string"},
                "title": {"type": "string"},
                "engagements": {"type": "integer"},
                "people": {"type": "integer"},
                "kinds": {"type": "object", "additionalProperties": {"type": "integer"}},
            },
        },
    },
}


def _query(name: str, description: str, schema: dict | None = None) -> dict:
    return {
        "in": "query",
        "name": name,
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


PERIOD_PARAM = _query(
    "period",
    "2026-Q3, 2026-07, 2026-W27 or 2026 (Europe/London); default: the current period of `kind`",
)
KIND_PARAM = _query(
    "kind",
    "Period kind when `period` is left out (default quarter).",
    {"type": "string", "enum": ["week", "month", "quarter", "year"]},
)
CODE = {"in": "path", "name": "code", "required": True, "schema": {"type": "string"}}


def _get(summary: str, body: dict, *params: dict, errors=("400", "401", "403", "404")) -> dict:
    responses = {"200": {"description": "OK", "content": {"application/json": {"schema": body}}}}
    responses.update({status: {**ERROR, "description": ERRORS[status]} for status in errors})
    return {
        "get": {
            "summary": summary,
            "tags": ["assessment"],
            "security": SECURITY,
            "parameters": list(params),
            "responses": responses,
        }
    }


def paths() -> dict:
    obj = lambda **props: {"type": "object", "properties": props}  # noqa: E731
    return {
        "/api/v1/assessment": _get(
            "The grid: every visible team's rating, figure and change per standard, and grade.",
            obj(
                period=PERIOD,
                previous_period={**PERIOD, "nullable": True},
                as_of={"type": "string", "format": "date-time"},
                catalogue=CATALOGUE,
                standards={
                    "type": "array",
                    "items": obj(
                        code={"type": "string"},
                        number={"type": "integer"},
                        title={"type": "string"},
                        description={"type": "string"},
                    ),
                },
                teams={"type": "array", "items": TEAM},
            ),
            PERIOD_PARAM,
            KIND_PARAM,
            _query("team", "Only this team (its code)."),
        ),
        "/api/v1/assessment/grid.csv": {
            "get": {
                "summary": (
                    "The grid as CSV: one row per team, rating, figure and change per standard."
                ),
                "description": (
                    "Columns: team, name, period, grade, previous_grade, met, partly_met, "
                    "not_met; then per standard CODE_rating, CODE_figure (the figure in words, "
                    "e.g. '100% (10 of 10)') and CODE_change, followed by each of its measures "
                    "as plain numbers, numbered CODE_1_..., CODE_2_... when the standard has "
                    "more than one. The measured value's column names its unit: _records, "
                    "_records_per_officer, _groups, _longest_gap_days, _days_since_last, "
                    "_mean_people, _share_publicised_fraction, _share_renewed_fraction, "
                    "_share_fed_back_fraction or _share_reviewed_on_time_fraction (0-1)."
                    " A ratio is followed by its numerator and denominator: _records and "
                    "_officers; _meetings_publicised and _meetings_held; _key_contacts_renewed "
                    "and _key_contacts_known; _priorities_fed_back and _priorities_due; "
                    "_priorities_reviewed and _reviews_due; _people and _records_with_people. "
                    "A measure with no figure (no meetings held, no record ever) leaves its "
                    "value empty. Text cells that a spreadsheet would run as a formula start "
                    "with '."
                ),
                "tags": ["assessment"],
                "security": SECURITY,
                "parameters": [PERIOD_PARAM, KIND_PARAM],
                "responses": {
                    "200": {
                        "description": "CSV",
                        "content": {"text/csv": {"schema": {"type": "string"}}},
                    },
                    **{
                        status: {**ERROR, "description": ERRORS[status]}
                        for status in ("400", "401", "403")
                    },
                },
            }
        },
        "/api/v1/assessment/teams/{code}": _get(
            "One team: the period's assessment with change, and each standard's trend.",
            obj(
                period=PERIOD,
                catalogue=CATALOGUE,
                team=TEAM,
                periods={"type": "array", "items": {"type": "string"}},
                trend={"type": "object", "additionalProperties": TREND},
            ),
            CODE,
            PERIOD_PARAM,
            KIND_PARAM,
            _query("periods", "How many periods of trend (1-36, default 12).", {"type": "integer"}),
        ),
        "/api/v1/assessment/teams/{code}/standards/{standard}": _get(
            "A cell: the standard's definition, figures, thresholds and the records behind each "
            "measure (a page of them). Logged in the access log.",
            obj(
                team=obj(code={"type": "string"}, name={"type": "string"}, area={"type": "string"}),
                period=PERIOD,
                catalogue=CATALOGUE,
                standard=STANDARD,
                evidence={"type": "array", "items": EVIDENCE},
            ),
            CODE,
            {"in": "path", "name": "standard", "required": True, "schema": {"type": "string"}},
            PERIOD_PARAM,
            KIND_PARAM,
            _query("limit", "Records per measure (1-500, default 50).", {"type": "integer"}),
            _query("offset", "Records to skip.", {"type": "integer"}),
        ),
        "/api/v1/assessment/teams/{code}/pack": _get(
            "The evidence pack: self-evaluation, figures, 12-period trend and sample evidence per "
            "standard. Logged in the access log.",
            obj(
                team=TEAM,
                period=PERIOD,
                catalogue=CATALOGUE,
                periods={"type": "array", "items": {"type": "string"}},
                standards={
                    "type": "array",
                    "items": {
                        "allOf": [
                            STANDARD,
                            obj(
                                summary={"type": "string"},
                                trend=TREND,
                                samples={"type": "array", "items": EVIDENCE},
                            ),
                        ]
                    },
                },
            ),
            CODE,
            PERIOD_PARAM,
            KIND_PARAM,
        ),
        "/api/v1/assessment/what-works": _get(
            "Per kind of engagement, force-wide and per team: engagements, people reached, groups "
            "reached, people per officer-hour; seldom-heard groups broken out.",
            obj(
                period=PERIOD,
                force=obj(**WORKS_BLOCK),
                teams={
                    "type": "array",
                    "items": obj(
                        code={"type": "string"},
                        name={"type": "string"},
                        area={"type": "string"},
                        **WORKS_BLOCK,
                    ),
                },
            ),
            PERIOD_PARAM,
            KIND_PARAM,
            _query("team", "Only this team (its code)."),
        ),
        "/teams/{code}.json": {
            "get": {
                "summary": "A team's public page as JSON (no sign-in): this month and quarter, "
                "meetings held and coming up, groups reached, public feedback.",
                "tags": ["public"],
                "parameters": [CODE],
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "404": {"description": "No such active team"},
                },
            }
        },
    }
