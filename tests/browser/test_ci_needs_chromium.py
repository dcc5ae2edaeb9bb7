"""With CI=true a missing Chromium fails the browser tests: they never pass by being skipped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# A browser test that needs nothing but the page, so the run reaches the Chromium check at once.
BROWSER_TEST = "tests/infra/test_browser.py::test_axe_reports_a_violation_readably"


def run_browser_test(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0", BROWSER_TEST],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_missing_chromium_fails_the_browser_tests_in_ci(tmp_path):
    result = run_browser_test(CI="true", BOOKINGS_CHROMIUM=str(tmp_path / "no-chromium-here"))

    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 error" in result.stdout and "skipped" not in result.stdout, result.stdout
    assert "Chromium not found" in result.stdout and "CI=true" in result.stdout, result.stdout


def test_missing_chromium_only_skips_outside_ci(tmp_path):
    result = run_browser_test(CI="", BOOKINGS_CHROMIUM=str(tmp_path / "no-chromium-here"))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout, result.stdout
