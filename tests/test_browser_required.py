"""`make test` fails, not skips, the browser tests when Chromium is missing, unless
BEATBOOK_SKIP_BROWSER=1 says to skip them (a nested pytest run of one browser test)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ONE_BROWSER_TEST = "tests/e2e/test_pwa_form.py::test_quick_contact_takes_four_taps_plus_the_summary"


def _pytest(tmp_path, **env) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BEATBOOK_")}
    environ.update(BEATBOOK_TEST_CHROMIUM=str(tmp_path / "no-chromium"), **env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", ONE_BROWSER_TEST],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_missing_chromium_fails_the_browser_tests(tmp_path):
    result = _pytest(tmp_path)
    assert result.returncode == 1, result.stdout
    assert "1 error" in result.stdout
    assert "Chromium is not installed at" in result.stdout
    assert "BEATBOOK_SKIP_BROWSER=1" in result.stdout


def test_skip_browser_says_so(tmp_path):
    result = _pytest(tmp_path, BEATBOOK_SKIP_BROWSER="1")
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout and "BEATBOOK_SKIP_BROWSER=1" in result.stdout
