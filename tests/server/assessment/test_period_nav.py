"""The period picker's "This week/month/quarter/year" shortcuts: marked only on the current one."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from assessment_force import PASSWORD

NOW = datetime(2026, 11, 25, 12, 0)  # a Wednesday: 2026-W48, 2026-11, 2026-Q4, 2026
CURRENT = {"week": "2026-W48", "month": "2026-11", "quarter": "2026-Q4", "year": "2026"}
SHORTCUT = re.compile(r'<a href="\?period=([^"]+)"( aria-current="true")?>This (\w+)</a>')


@pytest.fixture
def signed_in(client, force, monkeypatch):
    for where in ("server.assessment.grid.utcnow", "server.console.assessment.utcnow"):
        monkeypatch.setattr(where, lambda: NOW)
    force.add(force.officer("NPT-A", "pc.alpha"), "2026-08-03 10:00", "community_alert")
    force.user("admin", None, "insp.admin")
    response = client.post(
        "/console/sign-in", data={"username": "insp.admin", "password": PASSWORD}
    )
    assert response.status_code == 302
    return client


def shortcuts(client, path: str) -> dict[str, tuple[str, bool]]:
    response = client.get(path)
    assert response.status_code == 200, path
    page = response.get_data(as_text=True)
    found = {kind: (label, bool(marked)) for label, marked, kind in SHORTCUT.findall(page)}
    assert set(found) == set(CURRENT), path
    return found


PAGES = (
    "/console/assessment",
    "/console/assessment/teams/NPT-A",
    "/console/assessment/teams/NPT-A/standards/ALERT",
    "/console/assessment/what-works",
)


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize(
    "shown, marked",
    [
        ("2026-Q3", None),
        ("2026-08", None),
        ("2026-W47", None),
        ("2025", None),
        ("2026-Q4", "quarter"),
        ("2026-11", "month"),
        ("2026-W48", "week"),
        ("2026", "year"),
    ],
)
def test_only_the_current_period_is_marked(signed_in, page, shown, marked):
    found = shortcuts(signed_in, f"{page}?period={shown}")
    # The links always go to the current period of their kind, whatever is shown.
    assert {kind: label for kind, (label, _) in found.items()} == CURRENT
    assert [kind for kind, (_, on) in found.items() if on] == ([marked] if marked else [])


def test_the_default_period_is_marked(signed_in):
    found = shortcuts(signed_in, "/console/assessment")
    assert [kind for kind, (_, on) in found.items() if on] == ["quarter"]
