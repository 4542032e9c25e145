"""Which Beatbook role and team a person from the identity provider gets (issue 16).

The force's IT team writes the mapping as JSON (instance/oidc-mapping.json, or the file named by
BEATBOOK_OIDC_MAPPING); it is read and checked once at start-up, a mistake a ConfigError line:

    {
      "ask": "the Beatbook administrators: IT service desk, 01305 000000",
      "claims": ["groups", "roles"],
      "rules": [
        {"value": "beatbook-admins", "role": "admin"},
        {"value": "beatbook-supervisors-npt-a", "role": "supervisor", "team": "NPT-A"},
        {"value": "beatbook-officers-npt-a", "role": "officer", "team": "NPT-A"}
      ]
    }

Rules are tried in order and the first whose value is among the person's claims wins, so list
the higher roles first. "ask" is whom the refusal page tells an unmapped person to ask.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from server.db.models import ROLES

TEAMLESS = ("admin", "panel")


class MappingError(ValueError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Rule:
    value: str
    role: str
    team: str | None


@dataclass(frozen=True)
class Mapping:
    ask: str
    claims: tuple[str, ...]
    rules: tuple[Rule, ...]

    def match(self, claims: dict) -> Rule | None:
        """The first rule whose value the person holds in any of the mapped claims."""
        held: set[str] = set()
        for name in self.claims:
            value = claims.get(name)
            if isinstance(value, str):
                held.add(value)
            elif isinstance(value, list):
                held.update(v for v in value if isinstance(v, str))
        return next((rule for rule in self.rules if rule.value in held), None)


def load_mapping(path: str | Path) -> Mapping:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MappingError([f"{path} does not exist (docs/operations.md, 'Single sign-on')"])
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MappingError([f"{path} cannot be read as JSON: {exc}"])
    return parse_mapping(data, str(path))


def parse_mapping(data: object, where: str = "the mapping") -> Mapping:
    if not isinstance(data, dict):
        raise MappingError([f"{where} must be a JSON object with 'ask', 'claims' and 'rules'"])
    problems = []
    ask = data.get("ask")
    if not isinstance(ask, str) or not ask.strip():
        problems.append(f"{where}: 'ask' must say whom to ask for access, e.g. 'the IT desk'")
    claims = data.get("claims", ["groups"])
    if isinstance(claims, str):
        claims = [claims]
    if not isinstance(claims, list) or not claims or not all(isinstance(c, str) for c in claims):
        problems.append(f'{where}: \'claims\' must list claim names, e.g. ["groups", "roles"]')
        claims = []
    rules = data.get("rules")
    if not isinstance(rules, list) or not rules:
        problems.append(f"{where}: 'rules' must be a non-empty list")
        rules = []
    parsed = []
    for number, rule in enumerate(rules, 1):
        rule_problems = _rule_problems(rule)
        problems.extend(f"{where}: rule {number}: {p}" for p in rule_problems)
        if not rule_problems:
            team = rule.get("team")
            parsed.append(Rule(rule["value"], rule["role"], team.strip().upper() if team else None))
    if problems:
        raise MappingError(problems)
    return Mapping(str(ask).strip(), tuple(claims), tuple(parsed))


def _rule_problems(rule: object) -> list[str]:
    if not isinstance(rule, dict):
        return ['must be an object like {"value": "group", "role": "officer", "team": "NPT-A"}']
    problems = []
    if not isinstance(rule.get("value"), str) or not rule["value"]:
        problems.append("'value' must be the group or role the provider sends")
    role, team = rule.get("role"), rule.get("team")
    if role not in ROLES:
        problems.append(f"'role' must be one of {', '.join(ROLES)}")
    elif role in TEAMLESS and team:
        problems.append(f"an {role} sees every team: leave 'team' out")
    elif role not in TEAMLESS and (not isinstance(team, str) or not team.strip()):
        problems.append(f"an {role} needs a 'team' code, e.g. \"NPT-A\"")
    return problems
