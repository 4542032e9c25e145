"""scripts/audit.py: the lock file is read, and an unreachable PyPI is a skip, not a failure."""

from __future__ import annotations

import importlib.util
import urllib.error
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _audit():
    spec = importlib.util.spec_from_file_location("audit", ROOT / "scripts" / "audit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_lock_pins_every_dependency_with_hashes():
    audit = _audit()
    text = (ROOT / "requirements.lock").read_text()
    pinned = audit.pins(text)
    for name in (
        "flask",
        "sqlalchemy",
        "gunicorn",
        "argon2-cffi",
        "psycopg",
        "schemathesis",
        "pip-audit",
        "pytest",
    ):
        assert name in pinned, name
    assert text.count("--hash=sha256:") >= len(pinned)
    assert "file://" not in text and "/opt/" not in text  # nothing of this machine's setup


def test_an_unreachable_pypi_skips_with_a_message(monkeypatch, capsys):
    audit = _audit()

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(audit.urllib.request, "urlopen", offline)
    called = []
    monkeypatch.setattr(audit.subprocess, "call", lambda *a, **k: called.append(a) or 1)
    assert audit.main() == 0
    assert "pip-audit skipped" in capsys.readouterr().out and called == []


def test_a_reachable_pypi_runs_pip_audit_and_passes_its_verdict_on(monkeypatch):
    audit = _audit()
    monkeypatch.setattr(audit, "reachable", lambda name, version: None)
    called = []
    monkeypatch.setattr(audit.subprocess, "call", lambda command, **k: called.append(command) or 1)
    assert audit.main() == 1
    assert called and "pip_audit" in called[0] and "--require-hashes" in called[0]
