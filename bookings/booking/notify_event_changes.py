"""Telling everyone with a place when their event moves or is cancelled (rules 5 and 7).

The catalogue knows nothing of bookings, so it runs hooks registered here
inside the transaction that changes the event: the emails are written to the
outbox with the change, or not at all.

- Moved (new times, place, title or sessions): each booker of a confirmed
  booking and each attendee with their own email address gets an
  `event_changed` email with the updated invite (METHOD:REQUEST, same UIDs,
  higher SEQUENCE), so their calendar entry moves instead of doubling.
- Cancelled: every confirmed booking is cancelled through `cancel_booking`
  as an admin would, so refunds and credit notes start (payments' cancel
  hook); the same people get one `event_cancelled` email with a METHOD:CANCEL
  file. The booking service's own "booking cancelled" and "place cancelled"
  emails are suppressed there: they would tell people the same thing twice. Unfinished
  (held) bookings are cancelled too, at once, and their bookers get an
  `event_cancelled_hold` email.

This module sits in the booking area (above catalogue and notifications) and
is imported by `bookings/booking/__init__.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bookings.accounts.models import Role, User
from bookings.booking import hooks
from bookings.booking.models import Attendee, Booking, BookingStatus
from bookings.catalogue import services as catalogue_services
from bookings.catalogue.models import Event
from bookings.extensions import db
from bookings.notifications.outbox import queue_email, suppressed

# Changed field names (from the catalogue's change hook) grouped as people understand them.
TIME_FIELDS = frozenset({"sessions", "starts_at", "ends_at", "timezone"})
PLACE_FIELDS = frozenset({"venue_name", "venue_address", "is_online", "online_url"})


def _bookings_in(event_id: int, status: BookingStatus = BookingStatus.CONFIRMED) -> list[Booking]:
    return list(
        db.session.scalars(
            select(Booking)
            .where(Booking.event_id == event_id, Booking.status == status.value)
            .options(selectinload(Booking.booker), selectinload(Booking.attendees).selectinload(Attendee.ticket_type))
            .order_by(Booking.id)
        ).all()
    )


def recipients(booking: Booking) -> Iterator[tuple[str, Attendee | None]]:
    """(address, attendee) for the booker (attendee None), then each active attendee with their own address."""
    seen: set[str] = set()
    if booking.booker is not None:
        seen.add(booking.booker.email.lower())
        yield booking.booker.email, None
    for attendee in booking.active_attendees:
        if attendee.email and attendee.email.lower() not in seen:
            seen.add(attendee.email.lower())
            yield attendee.email, attendee


def describe_changes(changed: list[str]) -> list[str]:
    """Plain-English lines naming what moved."""
    lines = []
    if TIME_FIELDS.intersection(changed):
        lines.append("the dates or times")
    if PLACE_FIELDS.intersection(changed):
        lines.append("where it takes place")
    if "title" in changed:
        lines.append("its name")
    return lines or ["the details"]


def notify_event_changed(event: Event, changed: list[str], actor_id: int | None, now: datetime) -> None:
    """Catalogue change hook: an updated invite to everyone with a confirmed place."""
    what = describe_changes(changed)
    for booking in _bookings_in(event.id):
        attachments = hooks.attachments_for(booking, "confirmed")
        for address, attendee in recipients(booking):
            queue_email(
                "event_changed",
                to=address,
                subject=f"{event.title} has changed: check the new details",
                now=now,
                attachments=attachments,
                booking_reference=booking.reference,
                event_id=event.id,
                booking=booking,
                event=event,
                attendee=attendee,
                what_changed=what,
            )


def _acting_admin(actor_id: int | None) -> User:
    """The admin who cancelled the event, or an unsaved stand-in for the system when there is none."""
    actor = db.session.get(User, actor_id) if actor_id is not None else None
    if actor is not None and actor.is_admin:
        return actor
    # cancel_booking needs an admin (past the cut-off); actor_id None records "the system" in the audit.
    return User(id=None, role=Role.ADMIN.value, email="", name="System")


def notify_event_cancelled(event: Event, actor_id: int | None, now: datetime) -> None:
    """Catalogue cancellation hook: cancel every confirmed booking (refunds follow) and tell everyone once."""
    from bookings.booking.services import cancel_booking

    actor = _acting_admin(actor_id)
    for booking in _bookings_in(event.id):
        # Who to tell and what they paid, read before the cancellation empties the booking.
        people = list(recipients(booking))
        places = len(booking.active_attendees)
        paid_by = booking.payment_method if booking.total_pence > 0 else None
        with suppressed("booking_cancelled", "place_cancelled"):
            cancel_booking(reference=booking.reference, actor=actor, now=now, reason="event_cancelled")
        attachments = hooks.attachments_for(booking, "cancelled")
        for address, attendee in people:
            queue_email(
                "event_cancelled",
                to=address,
                subject=f"Cancelled: {event.title}",
                now=now,
                attachments=attachments,
                booking_reference=booking.reference,
                event_id=event.id,
                booking=booking,
                event=event,
                attendee=attendee,
                places=places,
                paid_by=paid_by,
            )
    _release_holds(event, actor, now)


def _release_holds(event: Event, actor: User, now: datetime) -> None:
    """Unfinished bookings end now, not when their hold would have run out; their bookers are told.

    A card checkout left open is expired at Stripe by the sweep (payments), and
    a payment that still arrives is refunded automatically.
    """
    from bookings.booking.services import cancel_booking

    for booking in _bookings_in(event.id, BookingStatus.HELD):
        with suppressed("booking_cancelled", "place_cancelled"):
            cancel_booking(reference=booking.reference, actor=actor, now=now, reason="event_cancelled")
        if booking.booker is not None:
            queue_email(
                "event_cancelled_hold",
                to=booking.booker.email,
                subject=f"Cancelled: {event.title}",
                now=now,
                booking_reference=booking.reference,
                event_id=event.id,
                booking=booking,
                event=event,
            )


catalogue_services.register_change_hook("notifications", notify_event_changed)
catalogue_services.register_cancellation_hook("bookings", notify_event_cancelled)
