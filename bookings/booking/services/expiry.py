"""Rule 2: a hold ends. The sweep marks holds past their time expired and passes the places on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bookings import capacity
from bookings.booking.models import (
    Booking,
    BookingStatus,
)
from bookings.core import audit
from bookings.core.db import transactional
from bookings.extensions import db
from bookings.notifications.outbox import queue_email

EXPIRE_BATCH = 500


@transactional
def _expire_event_holds(event_id: int, now: datetime) -> int:
    capacity.lock_event(event_id)
    expired = db.session.scalars(
        select(Booking)
        .where(
            Booking.event_id == event_id,
            Booking.status == BookingStatus.HELD.value,
            Booking.hold_expires_at <= now,
        )
        .options(selectinload(Booking.booker), selectinload(Booking.event))
        .limit(EXPIRE_BATCH)
    ).all()
    for booking in expired:
        booking.status = BookingStatus.EXPIRED.value
        booking.expired_at = now
        audit.record("booking.expired", "booking", booking.reference, actor_id=None, event_id=event_id, at=now)
        if booking.booker is not None and booking.is_details_complete:
            queue_email(
                "hold_expired",
                to=booking.booker.email,
                subject=f"Your places for {booking.event.title} were released",
                now=now,
                booking_reference=booking.reference,
                event_id=event_id,
                booking=booking,
                event=booking.event,
            )
    if expired:
        capacity.offer_freed_places(event_id, now)
    return len(expired)


def expire_holds(now: datetime) -> int:
    """Mark holds past their time as expired and pass their places on. Idempotent; safe on many hosts."""
    total = 0
    event_ids = db.session.scalars(
        select(Booking.event_id)
        .where(Booking.status == BookingStatus.HELD.value, Booking.hold_expires_at <= now)
        .distinct()
    ).all()
    db.session.commit()
    for event_id in event_ids:
        while True:
            count = _expire_event_holds(event_id, now)
            total += count
            if count < EXPIRE_BATCH:
                break
    return total
