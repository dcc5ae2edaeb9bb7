"""Read-side queries for the booker's pages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bookings.accounts.models import User
from bookings.booking.models import (
    Booking,
    BookingStatus,
)
from bookings.catalogue.models import Event
from bookings.extensions import db


def my_bookings(user: User, now: datetime) -> tuple[list[Booking], list[Booking]]:
    """The user's bookings: (upcoming, past). Left out: holds that ran out, and holds given up or replaced
    (cancelled before they were ever confirmed), which were never bookings to the person who made them."""
    bookings = db.session.scalars(
        select(Booking)
        .where(
            Booking.booker_id == user.id,
            Booking.status.in_(
                [BookingStatus.CONFIRMED.value, BookingStatus.CANCELLED.value, BookingStatus.HELD.value]
            ),
        )
        .options(selectinload(Booking.event).selectinload(Event.sessions), selectinload(Booking.attendees))
        .order_by(Booking.created_at.desc())
    ).all()
    upcoming: list[Booking] = []
    past: list[Booking] = []
    for booking in bookings:
        if booking.is_held and not booking.is_hold_live(now):
            continue
        if booking.is_cancelled and booking.confirmed_at is None:
            continue
        ends_at = booking.event.ends_at
        (past if ends_at is not None and ends_at < now else upcoming).append(booking)
    upcoming.sort(key=lambda b: b.event.starts_at or now)
    return upcoming, past
