"""The rules for account input: email addresses, passwords (NCSC: length over complexity), names.

Each check returns a plain-English problem or None, so forms can show every
problem at once and services can refuse the same input with the same words.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from email_validator import EmailNotValidError, validate_email

from bookings.accounts.models import Sector
from bookings.accounts.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")
MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 200
MAX_ORGANISATION_LENGTH = 200
MAX_TOKEN_NAME_LENGTH = 100


@cache
def common_passwords() -> frozenset[str]:
    """The deny-list, lower-cased."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def normalise_email(email: str | None) -> str:
    """Strip and lower-case; used for lookups even when the address is not valid."""
    return (email or "").strip().lower()


def email_problem(email: str | None) -> str | None:
    value = normalise_email(email)
    if not value:
        return "Enter your email address"
    if len(value) > MAX_EMAIL_LENGTH:
        return f"Email address must be {MAX_EMAIL_LENGTH} characters or fewer"
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return "Enter an email address in the correct format, like name@example.org"
    return None


def password_problem(password: str | None, *, email: str | None = None) -> str | None:
    password = password or ""
    if not password:
        return "Enter a password"
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Password must be {MIN_PASSWORD_LENGTH} characters or more"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Password must be {MAX_PASSWORD_LENGTH} characters or fewer"
    if password.strip().lower() in common_passwords():
        return "Password is too common and easy to guess: choose a different one, for example three random words"
    if email and password.strip().lower() == normalise_email(email):
        return "Password must not be the same as your email address"
    return None


def name_problem(name: str | None) -> str | None:
    value = (name or "").strip()
    if not value:
        return "Enter your full name"
    if len(value) > MAX_NAME_LENGTH:
        return f"Full name must be {MAX_NAME_LENGTH} characters or fewer"
    return None


def organisation_problem(organisation: str | None) -> str | None:
    value = (organisation or "").strip()
    if not value:
        return "Enter the name of your organisation"
    if len(value) > MAX_ORGANISATION_LENGTH:
        return f"Organisation must be {MAX_ORGANISATION_LENGTH} characters or fewer"
    return None


def sector_problem(sector: str | None) -> str | None:
    if sector not in {s.value for s in Sector}:
        return "Select the sector you work in"
    return None


def token_name_problem(name: str | None) -> str | None:
    value = (name or "").strip()
    if not value:
        return "Enter a name for the token"
    if len(value) > MAX_TOKEN_NAME_LENGTH:
        return f"Token name must be {MAX_TOKEN_NAME_LENGTH} characters or fewer"
    return None
