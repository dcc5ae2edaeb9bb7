"""Small helpers the account services share: field checks, finding a user by email, setting a password."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import select

from bookings.accounts import policy
from bookings.accounts.models import User
from bookings.accounts.passwords import hash_password
from bookings.core.errors import ValidationError
from bookings.extensions import db

# ---------------------------------------------------------------- helpers


def _require(problem: str | None, field: str) -> None:
    if problem:
        raise ValidationError(problem, field=field)


def _user_by_email(email: str) -> User | None:
    return db.session.scalars(select(User).where(User.email == policy.normalise_email(email))).first()


def _set_password(user: User, password: str, now: datetime) -> None:
    """New hash, and a new session epoch so every existing session and remember cookie ends."""
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    user.session_epoch = (user.session_epoch or 0) + 1


def _site_name() -> str:
    return current_app.config["SITE_NAME"]
