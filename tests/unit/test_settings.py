"""Settings are a contract: those the issues name are read from the environment, and every one is documented."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Named by the issues (and so relied on by deployments and checks outside this repository).
NAMED_BY_ISSUES = [
    "DATABASE_URL",
    "SECRET_KEY",
    "SERVER_NAME",
    "PREFERRED_URL_SCHEME",
    "PROXY_FIX_HOPS",
    "MAIL_SERVER",
    "MAIL_PORT",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_USE_TLS",
    "MAIL_DEFAULT_SENDER",
    "STRIPE_SECRET_KEY",
    "STRIPE_PUBLISHABLE_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_BASE",
]
# Read by config.py's test configuration only: not an operator's setting.
FOR_THE_TESTS_ONLY = {"TEST_DATABASE_URL"}


def read_from_environment() -> set[str]:
    source = (ROOT / "config.py").read_text()
    return set(re.findall(r'(?:_int|_bool|_float|environ\.get)\(\s*"([A-Z][A-Z0-9_]+)"', source))


def test_every_setting_the_issues_name_is_read_from_the_environment():
    assert not set(NAMED_BY_ISSUES) - read_from_environment()


@pytest.mark.parametrize("name", ["STRIPE_PUBLISHABLE_KEY", "STRIPE_API_BASE", "PROXY_FIX_HOPS"])
def test_a_named_setting_reaches_the_app_config(name):
    value = "7" if name == "PROXY_FIX_HOPS" else "pk_test_from_the_environment"
    script = f"import json; from bookings import create_app; print(json.dumps(str(create_app().config[{name!r}])))"
    env = {**os.environ, name: value, "BOOKINGS_ENV": "development", "DATABASE_URL": "sqlite://"}
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == value


def test_every_setting_read_from_the_environment_is_documented_for_operators():
    documents = (ROOT / "README.md").read_text() + "".join(p.read_text() for p in (ROOT / "docs").glob("*.md"))
    undocumented = sorted(n for n in read_from_environment() - FOR_THE_TESTS_ONLY if n not in documents)
    assert not undocumented
