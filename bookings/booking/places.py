"""The booking area's place source: confirmed attendees and attendees of live holds."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Select, and_, func, or_, select

from bookings import capacity
from bookings.booking.models import Attendee, AttendeeStatus, Booking, BookingStatus


def live_booking_places(event_ids: Iterable[int], now: datetime) -> Select:
    return (
        select(Attendee.event_id, Attendee.ticket_type_id, func.count().label("places"))
        .join(Booking, Booking.id == Attendee.booking_id)
        .where(
            Attendee.event_id.in_(list(event_ids)),
            Attendee.status == AttendeeStatus.ACTIVE.value,
            or_(
                Booking.status == BookingStatus.CONFIRMED.value,
                and_(Booking.status == BookingStatus.HELD.value, Booking.hold_expires_at > now),
            ),
        )
        .group_by(Attendee.event_id, Attendee.ticket_type_id)
    )


capacity.register_source("bookings", live_booking_places)
