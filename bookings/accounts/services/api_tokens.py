"""API tokens: shown once, stored only as SHA-256 hashes, revocable, their last use recorded at most a minute apart."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update

from bookings.accounts import policy
from bookings.accounts.models import ApiToken, User
from bookings.accounts.services.helpers import _require, _user_by_email
from bookings.core import audit
from bookings.core.db import transactional
from bookings.core.errors import NotFound
from bookings.core.tokens import hash_token, new_token
from bookings.extensions import db

# last_used_at is a hint for people, not an audit trail: one write a minute per token at most.
TOKEN_LAST_USED_RESOLUTION = timedelta(minutes=1)


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


def get_api_token(user_id: int, token_id: int) -> ApiToken:
    """One of this user's tokens, revoked or not. Raises NotFound for anyone else's."""
    row = db.session.scalars(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)).first()
    if row is None:
        raise NotFound("API token not found.")
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
    found = identify_api_token(token, now)
    if found is None:
        return None
    user, due_token_id = found
    if due_token_id is not None:
        _touch_api_token(due_token_id, now)
    return user


# Built once: every API request runs it, and building a select costs more than running this one.
_LIVE_TOKEN = (
    select(User, ApiToken.id, ApiToken.last_used_at)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None))
)


def identify_api_token(token: str | None, now: datetime) -> tuple[User, int | None] | None:
    """(user, id of the token if its use is due to be noted, else None) for a live token; None otherwise.

    One read. The caller notes the use: the API owes it to the next write
    transaction (`token_uses.owe_api_token_use`), others write it at once
    (`note_api_token_use` in a transaction of their own).
    """
    if not token:
        return None
    row = db.session.execute(_LIVE_TOKEN, {"token_hash": hash_token(token)}).first()
    if row is None:
        return None
    user, token_id, last_used_at = row
    if not user.is_active_account:
        return None
    due = last_used_at is None or now - last_used_at >= TOKEN_LAST_USED_RESOLUTION
    return user, token_id if due else None


def note_api_token_use(token_id: int, now: datetime) -> None:
    """Set last_used_at unless another request did within the minute (joins the caller's transaction)."""
    stale = (ApiToken.last_used_at.is_(None)) | (ApiToken.last_used_at <= now - TOKEN_LAST_USED_RESOLUTION)
    db.session.execute(update(ApiToken).where(ApiToken.id == token_id, stale).values(last_used_at=now))


@transactional
def _touch_api_token(token_id: int, now: datetime) -> None:
    note_api_token_use(token_id, now)
