"""The evidence pack for one team and period: a self-evaluation per standard, its figures and
trend, and a sample of the records behind them (those a supervisor approved first: the panel
reads only their summaries). The page and the API build it here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from server.assessment import ratings
from server.assessment.evidence import Evidence, evidence
from server.assessment.grid import Assessment, StandardResult, TeamAssessment, scope_for, trend
from server.assessment.periods import Period
from server.db.models import Team

SAMPLE = 5
TREND = 12


@dataclass
class PackSection:
    standard: StandardResult
    summary: str
    samples: list[Evidence]  # one per measure


@dataclass
class Pack:
    team: TeamAssessment
    assessment: Assessment
    history: list[Assessment]
    sections: list[PackSection]


def summary(standard: StandardResult, period: Period) -> str:
    """One honest sentence per standard: rating, the deciding figure, its threshold, the change."""
    head = standard.headline
    measure = head.measure
    words = [
        f"{ratings.TITLES[standard.rating]}. {measure['label']} in {period.title}: {head.text}."
    ]
    words.append(head.threshold_text)
    if standard.change == "better":
        words.append(f"Better than last period ({ratings.TITLES[standard.previous].lower()}).")
    elif standard.change == "worse":
        words.append(f"Worse than last period ({ratings.TITLES[standard.previous].lower()}).")
    elif standard.change == "same":
        words.append("The same as last period.")
    others = [m for m in standard.measures if m is not head]
    for m in others:
        words.append(f"{m.measure['label']}: {m.text} ({ratings.TITLES[m.rating].lower()}).")
    return " ".join(words)


def build_pack(team: Team, period: Period, now: datetime | None = None) -> Pack:
    history = trend(team, period, TREND, now)
    assessment = history[-1]
    scope = scope_for(period, [team], now)
    judged = assessment.teams[0]
    sections = []
    for standard in judged.standards:
        samples = [
            evidence(scope, m.measure, team.id, limit=SAMPLE, approved_first=True)
            for m in standard.measures
        ]
        sections.append(PackSection(standard, summary(standard, period), samples))
    return Pack(judged, assessment, history, sections)
