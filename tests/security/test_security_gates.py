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


def _fake_pip_audit(tmp_path, *, service_answers: bool, real_audit_exit: int) -> str:
    """A stand-in for pip-audit (the real one needs the vulnerability service, unreachable here)."""
    fake = tmp_path / "pip-audit"
    probe_output = "jinja2 2.10 GHSA-462w-v97r-4m45" if service_answers else "No known vulnerabilities found"
    fake.write_text(
        "#!/usr/bin/env bash\n"
        'if [ "$1" = "-r" ]; then echo "' + probe_output + '"; exit 0; fi\n'
        'echo "real audit: $*"\n'
        f"exit {real_audit_exit}\n"
    )
    fake.chmod(0o755)
    return str(fake)


def _audit(tmp_path, fake: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / "audit.sh"), fake],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", **env},
    )


def test_audit_runs_strictly_and_fails_on_a_vulnerability_when_the_service_answers(tmp_path):
    result = _audit(tmp_path, _fake_pip_audit(tmp_path, service_answers=True, real_audit_exit=1))
    assert result.returncode == 1
    assert "real audit: --strict" in result.stdout


def test_audit_passes_when_the_service_answers_and_nothing_is_found(tmp_path):
    result = _audit(tmp_path, _fake_pip_audit(tmp_path, service_answers=True, real_audit_exit=0))
    assert result.returncode == 0
    assert "real audit: --strict" in result.stdout


def test_audit_says_loudly_it_did_not_audit_when_the_service_is_unreachable(tmp_path):
    fake = _fake_pip_audit(tmp_path, service_answers=False, real_audit_exit=0)
    result = _audit(tmp_path, fake)
    assert result.returncode == 0
    assert "NOT AUDITED" in result.stdout and "real audit" not in result.stdout
    assert _audit(tmp_path, fake, AUDIT_REQUIRED="1").returncode == 1


def test_ci_runs_the_security_gates():
    assert "make check" in (ROOT / ".ci" / "run").read_text()
