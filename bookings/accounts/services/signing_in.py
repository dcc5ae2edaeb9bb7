"""Signing in, with failures limited per account and per network address in the database."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from bookings.accounts import policy
from bookings.accounts.models import User
from bookings.accounts.passwords import dummy_hash, hash_password, needs_rehash, verify_password
from bookings.accounts.services.helpers import _user_by_email
from bookings.core import audit, throttle
from bookings.core.db import transactional
from bookings.core.errors import DomainError, RateLimited, ValidationError

SIGN_IN_FAILED = "Enter a correct email address and password"


# ---------------------------------------------------------------- signing in


def _login_window() -> timedelta:
    return timedelta(seconds=current_app.config["LOGIN_FAILURE_WINDOW_SECONDS"])


def _login_keys(email: str, address: str | None) -> tuple[str, str]:
    return f"login-account:{email[:254]}", f"login-address:{(address or 'unknown')[:100]}"


def authenticate(email: str, password: str, address: str | None, now: datetime) -> User:
    """The user with this email and password.

    Raises ValidationError (field "email") with the same message whether the
    address is unknown or the password wrong, and RateLimited once the
    account or the network address has too many recent failures.
    """
    outcome = _attempt_sign_in(email, password, address, now)
    if isinstance(outcome, DomainError):
        raise outcome  # raised after the commit, so the failure is counted
    return outcome


@transactional
def _attempt_sign_in(email: str, password: str, address: str | None, now: datetime) -> User | DomainError:
    config = current_app.config
    email = policy.normalise_email(email)
    account_key, address_key = _login_keys(email, address)
    window = _login_window()
    if throttle.is_limited(
        account_key, limit=config["LOGIN_MAX_FAILURES_PER_ACCOUNT"], window=window, now=now
    ) or throttle.is_limited(address_key, limit=config["LOGIN_MAX_FAILURES_PER_ADDRESS"], window=window, now=now):
        minutes = max(1, int(window.total_seconds() // 60))
        return RateLimited(
            f"Too many failed attempts to sign in. Wait {minutes} minutes and try again, or reset your password.",
            field="email",
        )

    user = _user_by_email(email) if email else None
    usable = user is not None and user.is_active_account
    # Verify against a dummy hash when there is no account, so the answer takes as long.
    password_ok = verify_password(user.password_hash if usable else dummy_hash(), password or "")
    if not (usable and password_ok):
        throttle.add_hit(account_key, now=now)
        throttle.add_hit(address_key, now=now)
        if user is not None:
            audit.record("user.sign_in_failed", "user", user.id, actor_id=None, at=now)
        return ValidationError(SIGN_IN_FAILED, field="email", code="sign_in_failed")

    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    throttle.clear(account_key)
    audit.record("user.signed_in", "user", user.id, actor_id=user.id, at=now)
    return user
