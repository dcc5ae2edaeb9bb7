"""Accounts: creating users and admins, signing in, passwords, API tokens.

The rules this module owns:
- Nobody learns from us whether an address has an account: registering a
  taken address, signing in with an unknown one and asking to reset its
  password all answer exactly as they would for any other address (the
  holder of a taken address is emailed instead).
- Sign-in failures are limited per account and per network address, in the
  database, so the limits hold across processes and hosts.
- Passwords follow the NCSC: at least 12 characters, not a common password,
  not the email address; stored only as Argon2id hashes.
- Changing or resetting a password ends every other session and remember-me
  cookie (the session id carries `session_epoch`).
- API tokens are shown once and stored only as SHA-256 hashes.
Every change writes an audit record, and every email goes to the outbox, in
the same transaction.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from bookings.accounts import policy
from bookings.accounts.models import ApiToken, Role, User
from bookings.accounts.passwords import DUMMY_HASH, hash_password, needs_rehash, verify_password
from bookings.core import audit, throttle
from bookings.core.db import transactional
from bookings.core.errors import DomainError, NotFound, RateLimited, ValidationError
from bookings.core.tokens import hash_token, new_token
from bookings.core.urls import absolute_url
from bookings.extensions import db
from bookings.notifications.outbox import queue_email

SIGN_IN_FAILED = "Enter a correct email address and password"
RESET_SALT = "password-reset"
RESET_WINDOW = timedelta(hours=1)
RESET_MAX_PER_EMAIL = 3
RESET_MAX_PER_ADDRESS = 20
TAKEN_ADDRESS_EMAILS_PER_HOUR = 3
# last_used_at is a hint for people, not an audit trail: one write a minute per token at most.
TOKEN_LAST_USED_RESOLUTION = timedelta(minutes=1)


class InvalidResetLink(DomainError):
    code = "reset_link_invalid"
    status = 400

    def __init__(self) -> None:
        super().__init__("This password reset link has expired or has already been used. Ask for a new link.")


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
    password_ok = verify_password(user.password_hash if usable else DUMMY_HASH, password or "")
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


# ---------------------------------------------------------------- API tokens


@transactional
def create_api_token(email: str, name: str, now: datetime) -> tuple[ApiToken, str]:
    """A new API token for the account with this email: (row, secret). The secret is not stored."""
    _require(policy.token_name_problem(name), "name")
    user = _user_by_email(email)
    if user is None:
        raise NotFound(f"No account has the email address {policy.normalise_email(email)}.", field="email")
    token = new_token()
    row = ApiToken(user_id=user.id, name=name.strip(), token_hash=hash_token(token), created_at=now)
    db.session.add(row)
    db.session.flush()
    audit.record("api_token.created", "api_token", row.id, actor_id=user.id, at=now, name=row.name)
    return row, token


@transactional
def revoke_api_token(user_id: int, token_id: int, now: datetime) -> ApiToken:
    """Revoke one of this user's tokens (again is harmless). Raises NotFound for anyone else's."""
    row = db.session.scalars(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)).first()
    if row is None:
        raise NotFound("API token not found.")
    if row.revoked_at is None:
        row.revoked_at = now
        audit.record("api_token.revoked", "api_token", row.id, actor_id=user_id, at=now, name=row.name)
    return row


def list_api_tokens(user_id: int) -> list[ApiToken]:
    """This user's tokens that still work, newest first."""
    query = (
        select(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return list(db.session.scalars(query))


def authenticate_api_token(token: str | None, now: datetime) -> User | None:
    """The active user a live token belongs to, or None. Notes its use at most once a minute."""
    if not token:
        return None
    row = db.session.execute(
        select(ApiToken.id, ApiToken.user_id, ApiToken.last_used_at).where(
            ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None)
        )
    ).first()
    if row is None:
        return None
    user = db.session.get(User, row.user_id)
    if user is None or not user.is_active_account:
        return None
    if row.last_used_at is None or now - row.last_used_at >= TOKEN_LAST_USED_RESOLUTION:
        _touch_api_token(row.id, now)
    return user


@transactional
def _touch_api_token(token_id: int, now: datetime) -> None:
    stale = (ApiToken.last_used_at.is_(None)) | (ApiToken.last_used_at <= now - TOKEN_LAST_USED_RESOLUTION)
    db.session.execute(update(ApiToken).where(ApiToken.id == token_id, stale).values(last_used_at=now))
