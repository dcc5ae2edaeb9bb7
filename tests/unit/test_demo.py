"""The demo catalogue's definition and printed logins: pure checks, no database."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

from bookings.accounts.passwords import MIN_PASSWORD_LENGTH
from bookings.demo import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    ATTENDEE_EMAIL,
    ATTENDEE_PASSWORD,
    demo_catalogue,
    print_logins,
)

ROOT = Path(__file__).resolve().parents[2]


def test_demo_passwords_are_long_enough_and_not_the_usual_guesses():
    for password in (ADMIN_PASSWORD, ATTENDEE_PASSWORD):
        assert len(password) >= MIN_PASSWORD_LENGTH
        assert password.lower() not in {"password123456", "admin1234567", "demo-password", "changeme12345"}
    assert ADMIN_PASSWORD != ATTENDEE_PASSWORD


def test_print_logins_lists_both_accounts_with_their_passwords():
    text = "\n".join(print_logins())

    assert f"{ADMIN_EMAIL}  password: {ADMIN_PASSWORD}" in text
    assert f"{ATTENDEE_EMAIL}  password: {ATTENDEE_PASSWORD}" in text


def test_module_prints_logins_from_the_command_line():
    result = subprocess.run(
        [sys.executable, "-m", "bookings.demo", "--print-logins"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )

    assert ADMIN_EMAIL in result.stdout
    assert ATTENDEE_PASSWORD in result.stdout


def test_demo_slugs_are_unique():
    slugs = Counter(spec.slug for spec in demo_catalogue())

    assert [slug for slug, count in slugs.items() if count > 1] == []


def test_demo_fills_never_exceed_an_events_capacity():
    for spec in demo_catalogue():
        assert sum(fill.places for fill in spec.fills) <= spec.capacity, spec.slug
