"""The Makefile: `make run` needs no npm (only the tests do), and says where beatbook is;
`make test-pg` says what it runs. Read with `make -n -B` (print every step, run none)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def _steps(target: str) -> str:
    result = subprocess.run(
        ["make", "-n", "-B", target], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_run_needs_no_npm_and_says_where_beatbook_is():
    steps = _steps("run")
    assert "npm" not in steps and "node " not in steps
    assert ".venv/bin/beatbook serve" in steps
    assert "export PATH=" in steps and ".venv/bin" in steps


def test_the_tests_install_their_npm_packages():
    steps = _steps("test")
    assert "npm install" in steps and "node --test tests/pwa/" in steps


def test_test_pg_says_what_it_runs():
    steps = _steps("test-pg")
    assert '-m "not e2e and not slow"' in steps
    assert "The JavaScript and browser tests do not use PostgreSQL" in steps


def test_soak_runs_the_long_forms_of_the_fault_tests():
    steps = _steps("soak")
    assert "BEATBOOK_SCHEMATHESIS_EXAMPLES=100" in steps
    assert "tests.faults.soak" in steps
    assert "--crash-rounds ${BEATBOOK_CRASH_ROUNDS:-100}" in steps
    assert "--shift-seconds ${BEATBOOK_SHIFT_SECONDS:-300}" in steps
