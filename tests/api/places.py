"""Places filled directly with Booking rows, so API and catalogue tests need no booking journey."""

from __future__ import annotations

from datetime import datetime

from bookings.booking.models import Attendee, Booking, BookingStatus, PaymentStatus
from bookings.catalogue.models import Event
from bookings.core.clock import utcnow
from bookings.core.tokens import new_reference
from bookings.extensions import db


def add_places(
    event: Event,
    places: int,
    *,
    status: str = BookingStatus.CONFIRMED.value,
    hold_expires_at: datetime | None = None,
    ticket_type_id: int | None = None,
) -> Booking:
    """A booking of `places` attendees (one per place) on the event's first rate unless told."""
    now = utcnow()
    rate_id = ticket_type_id or event.ticket_types[0].id
    confirmed = status == BookingStatus.CONFIRMED.value
    booking = Booking(
        reference=new_reference(),
        event_id=event.id,
        status=status,
        payment_status=PaymentStatus.NOT_REQUIRED.value if confirmed else PaymentStatus.PENDING.value,
        hold_expires_at=hold_expires_at,
        created_at=now,
        confirmed_at=now if confirmed else None,
    )
    for n in range(places):
        booking.attendees.append(
            Attendee(event_id=event.id, ticket_type_id=rate_id, name=f"Delegate {n + 1}", created_at=now)
        )
    db.session.add(booking)
    db.session.commit()
    return booking
