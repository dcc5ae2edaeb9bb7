"""The rules an event sets on booking, as plain checks over the models (no queries, no writes)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bookings.booking.models import Booking
from bookings.catalogue.models import Event, TicketType
from bookings.core.errors import Conflict, ValidationError


class BookingClosed(Conflict):
    code = "booking_closed"


class CutoffPassed(Conflict):
    code = "cutoff_passed"


def check_event_bookable(event: Event, now: datetime) -> None:
    """Raise `BookingClosed` unless places on `event` can be booked at `now`."""
    if event.is_cancelled:
        raise BookingClosed("This event has been cancelled.")
    if not event.is_published:
        raise BookingClosed("This event is not open for booking.")
    if event.starts_at is not None and now >= event.starts_at:
        raise BookingClosed("This event has already started, so it can no longer be booked.")
    if event.booking_opens_at is not None and now < event.booking_opens_at:
        raise BookingClosed("Booking for this event has not opened yet.")
    if event.booking_closes_at is not None and now >= event.booking_closes_at:
        raise BookingClosed("Booking for this event has closed.")


def check_places_requested(event: Event, places: int) -> None:
    if places < 1:
        raise ValidationError("Enter a number of places of 1 or more.", field="places")
    if places > event.max_places_per_booking:
        raise ValidationError(f"You can book up to {event.max_places_per_booking} places at a time.", field="places")


def pick_ticket_type(event: Event, ticket_type_id: int | None, now: datetime) -> TicketType:
    """The chosen rate, or the only one; it must belong to the event and be on sale."""
    if ticket_type_id is None:
        on_sale = [t for t in event.ticket_types if t.is_on_sale(now)]
        if len(on_sale) != 1:
            raise ValidationError("Choose a rate.", field="ticket_type_id")
        return on_sale[0]
    for ticket_type in event.ticket_types:
        if ticket_type.id == ticket_type_id:
            if not ticket_type.is_on_sale(now):
                raise BookingClosed(f"The {ticket_type.name} rate is not on sale now.")
            return ticket_type
    raise ValidationError("Choose a rate for this event.", field="ticket_type_id")


def cancellation_deadline(event: Event) -> datetime | None:
    if event.starts_at is None:
        return None
    return event.starts_at - timedelta(hours=event.cancellation_cutoff_hours)


def substitution_deadline(event: Event) -> datetime | None:
    if event.starts_at is None:
        return None
    return event.starts_at - timedelta(hours=event.substitution_cutoff_hours)


def check_can_cancel(booking: Booking, now: datetime, *, is_admin: bool) -> None:
    if booking.is_held:
        return  # releasing a hold is always allowed
    if not booking.is_confirmed:
        raise Conflict("This booking is not active.", code="not_active")
    deadline = cancellation_deadline(booking.event)
    if not is_admin and deadline is not None and now >= deadline:
        raise CutoffPassed(
            "The deadline for cancelling this booking has passed. Contact the organiser if you cannot attend."
        )


def check_can_substitute(booking: Booking, now: datetime, *, is_admin: bool) -> None:
    if not booking.is_confirmed:
        raise Conflict("Only a confirmed booking can have an attendee substituted.", code="not_active")
    deadline = substitution_deadline(booking.event)
    if not is_admin and deadline is not None and now >= deadline:
        raise CutoffPassed("The deadline for changing attendees has passed. Contact the organiser.")
