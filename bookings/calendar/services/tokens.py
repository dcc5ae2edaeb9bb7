"""Personal feed tokens: create, regenerate, revoke, find and use one (a poll records its use at most hourly)."""

from __future__ import annotations

import hashlib
import hmac
from base64 import urlsafe_b64encode
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from bookings.accounts.models import User
from bookings.calendar.models import CalendarFeedToken
from bookings.core import audit
from bookings.core.db import transactional
from bookings.core.errors import NotFound
from bookings.core.tokens import hash_token, new_token
from bookings.extensions import db

# A feed poll records `last_used_at` at most this often, so polling is not a write each time.
FEED_USE_RECORD_INTERVAL = timedelta(hours=1)


_FEED_TOKEN_CONTEXT = b"bookings.calendar-feed.v1"


def _feed_token(user_id: int, token_id: int) -> str:
    """The secret in a feed address: an HMAC of the row under the app's key (see CalendarFeedToken)."""
    key = current_app.config["SECRET_KEY"].encode()
    message = _FEED_TOKEN_CONTEXT + f"|{user_id}|{token_id}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return urlsafe_b64encode(digest).rstrip(b"=").decode()


def _live_token(user_id: int) -> CalendarFeedToken | None:
    return db.session.scalars(
        select(CalendarFeedToken)
        .where(CalendarFeedToken.user_id == user_id, CalendarFeedToken.revoked_at.is_(None))
        .order_by(CalendarFeedToken.id.desc())
        .limit(1)
    ).first()


def _create_token(user_id: int, now: datetime) -> str:
    row = CalendarFeedToken(user_id=user_id, token_hash=hash_token(new_token()), created_at=now)
    db.session.add(row)
    db.session.flush()  # the id is part of the secret
    token = _feed_token(user_id, row.id)
    row.token_hash = hash_token(token)
    audit.record("calendar_feed.created", "user", user_id, actor_id=user_id, at=now, token_id=row.id)
    return token


def _revoke_live(user_id: int, now: datetime) -> int:
    rows = db.session.scalars(
        select(CalendarFeedToken).where(CalendarFeedToken.user_id == user_id, CalendarFeedToken.revoked_at.is_(None))
    ).all()
    for row in rows:
        row.revoked_at = now
        audit.record("calendar_feed.revoked", "user", user_id, actor_id=user_id, at=now, token_id=row.id)
    return len(rows)


@transactional
def get_or_create_feed_token(user_id: int, now: datetime) -> str:
    """The user's live feed token, made if they have none."""
    row = _live_token(user_id)
    if row is not None:
        return _feed_token(user_id, row.id)
    return _create_token(user_id, now)


@transactional
def regenerate_feed_token(user_id: int, now: datetime) -> str:
    """Revoke the user's feed address (if any) and make a new one; the old one answers 404 from now on."""
    _revoke_live(user_id, now)
    return _create_token(user_id, now)


@transactional
def revoke_feed_token(user_id: int, now: datetime) -> bool:
    """Revoke the user's feed address; False when there was none."""
    return _revoke_live(user_id, now) > 0


def find_feed_token(user_id: int) -> str | None:
    """The user's live feed token without making one (for the account page)."""
    row = _live_token(user_id)
    return None if row is None else _feed_token(user_id, row.id)


@transactional
def _record_feed_use(token_id: int, now: datetime) -> None:
    row = db.session.get(CalendarFeedToken, token_id)
    if row is not None:
        row.last_used_at = now


def use_feed_token(token: str, now: datetime) -> int:
    """The id of the user whose live feed `token` opens. Raises NotFound for an unknown or revoked token."""
    row = db.session.execute(
        select(CalendarFeedToken.id, CalendarFeedToken.user_id, CalendarFeedToken.last_used_at)
        .join(User, User.id == CalendarFeedToken.user_id)
        .where(
            CalendarFeedToken.token_hash == hash_token(token),
            CalendarFeedToken.revoked_at.is_(None),
            User.is_active_account.is_(True),
        )
    ).one_or_none()
    if row is None:
        raise NotFound("There is no such calendar feed.")
    if row.last_used_at is None or row.last_used_at <= now - FEED_USE_RECORD_INTERVAL:
        _record_feed_use(row.id, now)
    return row.user_id
