"""Bookings made directly with the models, for calendar tests (the booking services are not ours)."""

from __future__ import annotations

from bookings.booking.models import Attendee, AttendeeStatus, Booking, BookingStatus, PaymentStatus
from bookings.catalogue.models import Event
from bookings.core.clock import utcnow
from bookings.core.tokens import new_reference
from bookings.extensions import db


def make_booking(event: Event, booker, *, places: int = 1, status: str = BookingStatus.CONFIRMED.value) -> Booking:
    now = utcnow()
    booking = Booking(
        reference=new_reference(),
        event_id=event.id,
        booker_id=booker.id if booker else None,
        status=status,
        payment_status=PaymentStatus.NOT_REQUIRED.value,
        created_at=now,
        confirmed_at=now if status == BookingStatus.CONFIRMED.value else None,
        cancelled_at=now if status == BookingStatus.CANCELLED.value else None,
    )
    ticket_type_id = event.ticket_types[0].id
    for n in range(places):
        booking.attendees.append(
            Attendee(
                event_id=event.id,
                ticket_type_id=ticket_type_id,
                status=AttendeeStatus.ACTIVE.value,
                name=f"Delegate {n + 1}",
                email=f"delegate{n + 1}@council.example",
                created_at=now,
            )
        )
    db.session.add(booking)
    db.session.commit()
    return booking


def cancel_booking(booking: Booking) -> None:
    """What the booking services will do: status cancelled, attendees cancelled, times set."""
    now = utcnow()
    booking.status = BookingStatus.CANCELLED.value
    booking.cancelled_at = now
    for attendee in booking.attendees:
        attendee.status = AttendeeStatus.CANCELLED.value
        attendee.cancelled_at = now
    db.session.commit()


def move_session(event: Event, index: int, *, by) -> None:
    """What the catalogue services do on a change of time: move it, raise SEQUENCE, touch the event."""
    session = event.sessions[index]
    session.starts_at += by
    session.ends_at += by
    session.sequence += 1
    event.updated_at = utcnow()
    db.session.commit()


def cancel_event(event: Event) -> None:
    """What the catalogue services do on cancelling an event: status, SEQUENCE, updated_at."""
    event.status = "cancelled"
    event.sequence += 1
    event.updated_at = utcnow()
    db.session.commit()
