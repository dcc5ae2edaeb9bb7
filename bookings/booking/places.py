"""The booking area's place source: confirmed attendees and attendees of live holds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BindParameter, Select, func, or_, select

from bookings import capacity
from bookings.booking.models import Attendee, AttendeeStatus, Booking, BookingStatus

_LIVE = [Booking.status.in_([BookingStatus.CONFIRMED.value, BookingStatus.HELD.value])]


def _live(now: Any) -> list:
    """A booking that holds places at `now`: confirmed, or held and not yet expired."""
    return [*_LIVE, or_(Booking.status == BookingStatus.CONFIRMED.value, Booking.hold_expires_at > now)]


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
            *_live(now),
        )
        .group_by(Attendee.event_id, Attendee.ticket_type_id)
    )


def live_booking_places_of_one_event(event_id: Any, now: Any) -> Select:
    """The same rows for one event, reached from its bookings (each attendee found by its booking's id).

    For the event being booked: its rows are new, so PostgreSQL's statistics
    (gathered before they were written) say it has none, and for the form
    above it then picks a nested loop that reads all of the event's bookings
    once per attendee, work that grows with the square of the places taken,
    under the event's lock (docs/performance.md). Here the event's condition is
    on the bookings alone, so each attendee is reached by its booking. The rows
    are the same as above's because an attendee's `event_id` is its booking's
    (both are set together in `services.common.create_hold`, and nothing moves
    an attendee to another booking or event); the property test of rule 1
    checks both forms against its model.
    """
    ids = event_id if isinstance(event_id, BindParameter) else list(event_id)
    return (
        select(Booking.event_id, Attendee.ticket_type_id, func.count().label("places"))
        .join(Attendee, Attendee.booking_id == Booking.id)
        .where(Booking.event_id.in_(ids), *_live(now), Attendee.status == AttendeeStatus.ACTIVE.value)
        .group_by(Booking.event_id, Attendee.ticket_type_id)
    )


capacity.register_source("bookings", live_booking_places, one_event=live_booking_places_of_one_event)
