"""Rate limits kept in the database, so they hold across processes and hosts.

A limit is a key (such as "login-account:ann@example.org"), a window and a
number of hits allowed in it. The app keeps no state in process memory.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Index, String, bindparam, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column

from bookings.core.types import UTCDateTime
from bookings.extensions import db


class ThrottleHit(db.Model):
    __tablename__ = "throttle_hit"
    __table_args__ = (Index("ix_throttle_hit_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


_HITS = (
    select(func.count())
    .select_from(ThrottleHit)
    .where(ThrottleHit.key == bindparam("key"), ThrottleHit.at > bindparam("since", type_=UTCDateTime()))
)


def hits(key: str, *, window: timedelta, now: datetime) -> int:
    """How many hits `key` has had in the window ending now."""
    return db.session.scalar(_HITS, {"key": key, "since": now - window}) or 0


def is_limited(key: str, *, limit: int, window: timedelta, now: datetime) -> bool:
    return hits(key, window=window, now=now) >= limit


def add_hit(key: str, *, now: datetime) -> None:
    """Record a hit (the caller commits)."""
    db.session.add(ThrottleHit(key=key, at=now))


def clear(key: str) -> None:
    db.session.execute(delete(ThrottleHit).where(ThrottleHit.key == key))


def prune(*, older_than: datetime) -> int:
    """Remove hits no window can still see; run by the sweep."""
    result = db.session.execute(delete(ThrottleHit).where(ThrottleHit.at < older_than))
    return result.rowcount or 0
