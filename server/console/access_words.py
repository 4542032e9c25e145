"""The access log in plain words: each action code as a phrase and each detail as a labelled
line. The codes stay what is stored and what the filter sends; only the page reads them out."""

from __future__ import annotations

from server.console.record import label

ACTIONS = {
    "sign_in": "Signed in to the console",
    "sign_out": "Signed out of the console",
    "sign_in_failed": "Failed sign-in",
    "device_sign_in": "Signed in on a phone",
    "device_sign_out": "Signed out on a phone",
    "pull": "Phone downloaded records",
    "list_records": "Listed records",
    "search_records": "Searched records",
    "view_record": "Viewed a record",
    "review": "Reviewed a record",
    "resolve_conflict": "Settled a conflict",
    "view_conflicts": "Viewed the conflicts",
    "export": "Started a records export",
    "export_finished": "Finished a records export",
    "view_people": "Viewed teams and people",
    "view_person": "Viewed an officer",
    "view_phones": "Viewed the phones",
    "add_officer": "Added an officer",
    "move_officer": "Moved an officer to another team",
    "revoke_device": "Revoked a phone",
    "view_activity": "Viewed activity",
    "view_users": "Viewed every account",
    "view_access_log": "Viewed the access log",
    "password_change": "Changed own password",
    "password_reset": "Reset a password",
    "deactivate_officer": "Deactivated an officer",
    "activate_officer": "Reactivated an officer",
    "deactivate_user": "Deactivated an account",
    "activate_user": "Reactivated an account",
    "assessment.meeting_add": "Announced a meeting",
    "assessment.meeting_cancel": "Cancelled a meeting",
    "assessment.export_csv": "Exported the assessment",
    "assessment.evidence": "Viewed a standard's evidence",
    "assessment.pack": "Opened an evidence pack",
    "view_priorities": "Viewed a team's local priorities",
    "view_priority": "Opened a local priority's form",
    "priority_create": "Set a local priority",
    "priority_edit": "Changed a local priority",
    "list_alerts": "Viewed the alerts of their teams",
    "alert_dismiss": "Dismissed an alert, with a note",
}

TARGETS = {
    "record": "Record",
    "records": "Records",
    "user": "Person",
    "users": "People",
    "device": "Phone",
    "devices": "Phones",
    "team": "Team",
    "access_log": "Access log",
    "planned_meeting": "Meeting",
}

KEYS = {
    "filters": "Filters",
    "after": "From page",
    "before": "Before",
    "count": "How many",
    "ids": "Which",
    "digest": "Digest of the ids",
    "first": "First",
    "last": "Last",
    "state": "Decision",
    "comment": "Comment",
    "bulk": "Approved together with",
    "conflict": "Conflict",
    "field": "Field",
    "choice": "Kept",
    "value": "Value",
    "value_chars": "Characters in the kept text",
    "user": "Officer",
    "username": "Username",
    "role": "Role",
    "pending": "Unsynced changes on the phone",
    "from": "From team",
    "to": "To team",
    "team": "Team",
    "teams": "Teams",
    "people": "People",
    "devices": "Phones",
    "officers": "Officers",
    "conflicts": "Conflicts",
    "days": "Quiet after (days)",
    "hours": "Holding work after (hours)",
    "name": "Phone name",
    "via": "Through",
    "reason": "Why",
    "format": "Format",
    "complete": "Complete",
    "since": "Since",
    "limit": "At most",
    "cursor": "Up to",
    "starts_at": "Starts",
    "period": "Period",
    "standard": "Standard",
    "revoked": "Revoked phones shown",
}

CHOICES = {
    "winner": "the value in the record",
    "loser": "the other change",
    "new": "a new value typed in",
}
STATES = {"approved": "approved", "returned": "returned to the officer"}
FILTER_KEYS = {
    "q": "search",
    "team": "team",
    "officer": "officer",
    "date_from": "from",
    "date_to": "to",
    "kind": "kind",
    "standard": "standard",
    "group": "group",
    "review": "review",
    "conflict": "has a conflict",
    "show": "show",
    "sort": "order",
}


def action_words(code: str) -> str:
    return ACTIONS.get(code, code.replace("_", " ").replace(".", ": ").capitalize())


def target_words(code: str) -> str:
    return TARGETS.get(code, code.replace("_", " ").capitalize())


def _plain(value: object) -> str:
    if value is None or value == "":
        return "none"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_plain(v)}" for k, v in value.items()) or "none"
    return str(value)


def detail_lines(detail: dict | None) -> list[tuple[str, str]]:
    """(label, words) per detail entry, in the order written; empty entries left out."""
    lines = []
    for key, value in (detail or {}).items():
        if value in (None, "", [], {}) and key not in ("count",):
            continue
        if key == "choice":
            words = CHOICES.get(str(value), _plain(value))
        elif key == "state":
            words = STATES.get(str(value), _plain(value))
        elif key == "field":
            words = label(str(value))
        elif key == "bulk":
            words = f"{value} records in one approval"
        elif key == "filters" and isinstance(value, dict):
            words = "; ".join(f"{FILTER_KEYS.get(k, k)}: {_plain(v)}" for k, v in value.items())
        else:
            words = _plain(value)
        lines.append((KEYS.get(key, key.replace("_", " ").capitalize()), words))
    return lines
