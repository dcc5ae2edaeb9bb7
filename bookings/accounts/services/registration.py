"""Registering people and creating admins; a taken address answers as any other and its holder is emailed."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from bookings.accounts import policy
from bookings.accounts.models import Role, User
from bookings.accounts.passwords import hash_password
from bookings.accounts.services.helpers import _require, _set_password, _site_name, _user_by_email
from bookings.core import audit, throttle
from bookings.core.db import transactional
from bookings.core.urls import absolute_url
from bookings.extensions import db
from bookings.notifications.outbox import queue_email

TAKEN_ADDRESS_EMAILS_PER_HOUR = 3


# ---------------------------------------------------------------- registration


@transactional
def register_user(name: str, email: str, organisation: str, sector: str, password: str, now: datetime) -> User | None:
    """Create an attendee account and email a welcome; returns the new user.

    When the address already has an account, nothing is created: its holder
    is emailed that someone tried to register, and None is returned. The
    caller must answer both cases alike. Raises ValidationError (with field).
    """
    _require(policy.name_problem(name), "name")
    _require(policy.email_problem(email), "email")
    _require(policy.organisation_problem(organisation), "organisation")
    _require(policy.sector_problem(sector), "sector")
    _require(policy.password_problem(password, email=email), "password")
    email = policy.normalise_email(email)
    password_hash = hash_password(password)  # in both branches, so timing does not tell them apart

    existing = _user_by_email(email)
    if existing is not None:
        _tell_holder_of_attempt(existing, now)
        return None

    user = User(
        email=email,
        name=name.strip(),
        organisation=organisation.strip(),
        sector=sector,
        role=Role.ATTENDEE.value,
        password_hash=password_hash,
        session_epoch=0,
        is_active_account=True,
        created_at=now,
    )
    try:
        with db.session.begin_nested():  # a savepoint: losing a race for the address is not an error
            db.session.add(user)
    except IntegrityError:
        existing = _user_by_email(email)
        if existing is None:
            raise
        _tell_holder_of_attempt(existing, now)
        return None
    queue_email(
        "account_created",
        to=user.email,
        subject=f"Your {_site_name()} account is ready",
        now=now,
        name=user.name,
        sign_in_url=absolute_url("accounts.login"),
    )
    audit.record("user.registered", "user", user.id, actor_id=user.id, at=now)
    return user


def _tell_holder_of_attempt(holder: User, now: datetime) -> None:
    """Email the holder of a taken address, a few times an hour at most, so nobody can flood their inbox."""
    key = f"register-taken:{holder.email}"
    audit.record("user.registration_attempted", "user", holder.id, actor_id=None, at=now)
    if throttle.is_limited(key, limit=TAKEN_ADDRESS_EMAILS_PER_HOUR, window=timedelta(hours=1), now=now):
        return
    throttle.add_hit(key, now=now)
    queue_email(
        "account_exists",
        to=holder.email,
        subject=f"Someone tried to create a {_site_name()} account with your email address",
        now=now,
        name=holder.name,
        sign_in_url=absolute_url("accounts.login"),
        reset_url=absolute_url("accounts.request_reset"),
    )


@transactional
def create_admin(email: str, password: str, name: str, now: datetime) -> User:
    """Create an admin account, or make the existing account an admin with this password."""
    _require(policy.email_problem(email), "email")
    _require(policy.password_problem(password, email=email), "password")
    email = policy.normalise_email(email)
    user = _user_by_email(email)
    if user is None:
        _require(policy.name_problem(name), "name")
        user = User(
            email=email,
            name=name.strip(),
            organisation="",
            role=Role.ADMIN.value,
            password_hash=hash_password(password),
            session_epoch=0,
            is_active_account=True,
            created_at=now,
            password_changed_at=now,
        )
        db.session.add(user)
        db.session.flush()
        audit.record("user.admin_created", "user", user.id, actor_id=None, at=now)
    else:
        user.role = Role.ADMIN.value
        user.is_active_account = True
        _set_password(user, password, now)
        audit.record("user.made_admin", "user", user.id, actor_id=None, at=now)
    return user
