"""The booking area's place source: confirmed attendees and attendees of live holds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BindParameter, Select, func, or_, select

from bookings import capacity
from bookings.booking.models import Attendee, AttendeeStatus, Booking, BookingStatus


def live_booking_places(event_ids: Any, now: Any) -> Select:
    """(event_id, ticket_type_id, places) of confirmed attendees and those of unexpired holds.

    `event_ids`: a list, or an expanding bound parameter; `now`: a datetime or a bound parameter.
    """
    # Shaped so that the work grows with the listed events' attendees, not with the whole table
    # (docs/performance.md): the status test is an IN with the expiry inside, not a top-level OR
    # of two statuses, which SQLite answered by scanning every confirmed booking of every event.
    ids = event_ids if isinstance(event_ids, BindParameter) else list(event_ids)
    return (
        select(Attendee.event_id, Attendee.ticket_type_id, func.count().label("places"))
        .join(Booking, Booking.id == Attendee.booking_id)
        .where(
            Attendee.event_id.in_(ids),
            Attendee.status == AttendeeStatus.ACTIVE.value,
            Booking.event_id.in_(ids),
            Booking.status.in_([BookingStatus.CONFIRMED.value, BookingStatus.HELD.value]),
            or_(Booking.status == BookingStatus.CONFIRMED.value, Booking.hold_expires_at > now),
        )
        .group_by(Attendee.event_id, Attendee.ticket_type_id)
    )


capacity.register_source("bookings", live_booking_places)
