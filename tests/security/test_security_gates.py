"""`make check` gates: bandit fails on a high-severity finding and passes on bookings/ today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BANDIT = [sys.executable, "-m", "bandit", "-q", "-ll", "-r"]
ROOT = Path(__file__).resolve().parents[2]


def test_bandit_fails_on_a_high_severity_finding(tmp_path):
    (tmp_path / "bad.py").write_text("import subprocess\n\n\ndef run(cmd):\n    subprocess.call(cmd, shell=True)\n")
    result = subprocess.run([*BANDIT, str(tmp_path)], capture_output=True, text=True, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "B602" in result.stdout


def test_bandit_finds_nothing_medium_or_high_in_bookings():
    result = subprocess.run([*BANDIT, str(ROOT / "bookings")], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_make_check_runs_bandit_and_a_strict_pip_audit():
    makefile = (ROOT / "Makefile").read_text()
    assert "bandit -q -r bookings -ll" in makefile
    assert "pip-audit --strict" in makefile
    assert "make check" in (ROOT / ".ci" / "run").read_text()
