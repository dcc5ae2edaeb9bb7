"""Password reset links and password changes; either ends every other session."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from bookings.accounts import policy
from bookings.accounts.models import User
from bookings.accounts.passwords import verify_password
from bookings.accounts.services.helpers import _require, _set_password, _site_name, _user_by_email
from bookings.accounts.services.signing_in import _login_keys
from bookings.core import audit, throttle
from bookings.core.db import transactional
from bookings.core.errors import DomainError, NotFound, RateLimited, ValidationError
from bookings.core.urls import absolute_url
from bookings.extensions import db
from bookings.notifications.outbox import queue_email

RESET_SALT = "password-reset"
RESET_WINDOW = timedelta(hours=1)
RESET_MAX_PER_EMAIL = 3
RESET_MAX_PER_ADDRESS = 20


class InvalidResetLink(DomainError):
    code = "reset_link_invalid"
    status = 400

    def __init__(self) -> None:
        super().__init__("This password reset link has expired or has already been used. Ask for a new link.")


# ---------------------------------------------------------------- password reset


class _ClockSigner(TimestampSigner):
    """itsdangerous reads the system time; ours comes from `now`, so expiry can be tested exactly."""

    now: datetime

    def get_timestamp(self) -> int:
        return int(self.now.timestamp())


def _reset_serializer(now: datetime) -> URLSafeTimedSerializer:
    signer = type("_Signer", (_ClockSigner,), {"now": now})
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RESET_SALT, signer=signer)


def _password_fingerprint(user: User) -> str:
    """Changes whenever the password does, so a reset link works once."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:24]


def make_reset_token(user: User, now: datetime) -> str:
    return _reset_serializer(now).dumps({"uid": user.id, "fp": _password_fingerprint(user)})


@transactional
def request_password_reset(email: str, now: datetime, address: str | None = None) -> None:
    """Email a single-use reset link if the address has an account; answers alike either way.

    Raises ValidationError for an address that is not well formed and
    RateLimited after too many requests for one address or from one network
    address (counted whether or not an account exists).
    """
    _require(policy.email_problem(email), "email")
    email = policy.normalise_email(email)
    email_key = f"reset-email:{email}"
    address_key = f"reset-address:{(address or 'unknown')[:100]}"
    if throttle.is_limited(email_key, limit=RESET_MAX_PER_EMAIL, window=RESET_WINDOW, now=now) or throttle.is_limited(
        address_key, limit=RESET_MAX_PER_ADDRESS, window=RESET_WINDOW, now=now
    ):
        raise RateLimited(
            "Too many requests to reset a password. Wait an hour and try again.",
            field="email",
        )
    throttle.add_hit(email_key, now=now)
    throttle.add_hit(address_key, now=now)

    user = _user_by_email(email)
    if user is None or not user.is_active_account:
        return
    max_age = current_app.config["PASSWORD_RESET_MAX_AGE_SECONDS"]
    queue_email(
        "password_reset",
        to=user.email,
        subject=f"Reset your {_site_name()} password",
        now=now,
        name=user.name,
        reset_url=absolute_url("accounts.reset_password", token=make_reset_token(user, now)),
        expires_in=_describe_seconds(max_age),
    )
    audit.record("user.password_reset_requested", "user", user.id, actor_id=None, at=now)


def _describe_seconds(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour" if hours == 1 else f"{hours} hours"
    minutes = max(1, seconds // 60)
    return f"{minutes} minute" if minutes == 1 else f"{minutes} minutes"


def check_reset_token(token: str, now: datetime) -> User:
    """The user a reset link is for, if it is still good; raises InvalidResetLink otherwise."""
    max_age = current_app.config["PASSWORD_RESET_MAX_AGE_SECONDS"]
    try:
        payload = _reset_serializer(now).loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        raise InvalidResetLink() from None
    if not isinstance(payload, dict) or not isinstance(payload.get("uid"), int):
        raise InvalidResetLink()
    user = db.session.get(User, payload["uid"])
    if (
        user is None
        or not user.is_active_account
        or not hmac.compare_digest(str(payload.get("fp", "")), _password_fingerprint(user))
    ):
        raise InvalidResetLink()
    return user


@transactional
def reset_password(token: str, new_password: str, now: datetime) -> User:
    """Set a new password from a reset link; the link then stops working and every session ends.

    Raises InvalidResetLink or ValidationError (field "new_password").
    """
    user = check_reset_token(token, now)
    _require(policy.password_problem(new_password, email=user.email), "new_password")
    _set_password(user, new_password, now)
    account_key, _ = _login_keys(user.email, None)
    throttle.clear(account_key)  # they proved they own the address: let them sign in now
    _queue_password_changed(user, now)
    audit.record("user.password_reset", "user", user.id, actor_id=user.id, at=now)
    return user


@transactional
def change_password(user_id: int, current_password: str, new_password: str, now: datetime) -> User:
    """Change a password; every other session and remember-me cookie ends (the caller signs this one in again).

    Raises NotFound, or ValidationError on field "current_password" or "new_password".
    """
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("Account not found.")
    if not verify_password(user.password_hash, current_password or ""):
        raise ValidationError("Your current password is incorrect", field="current_password")
    _require(policy.password_problem(new_password, email=user.email), "new_password")
    _set_password(user, new_password, now)
    _queue_password_changed(user, now)
    audit.record("user.password_changed", "user", user.id, actor_id=user.id, at=now)
    return user


def _queue_password_changed(user: User, now: datetime) -> None:
    queue_email(
        "password_changed",
        to=user.email,
        subject=f"Your {_site_name()} password has been changed",
        now=now,
        name=user.name,
        reset_url=absolute_url("accounts.request_reset"),
    )
