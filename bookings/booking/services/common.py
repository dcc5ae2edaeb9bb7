"""Shared pieces of the booking services: loading, locking, creating holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, case, func, select
from sqlalchemy.orm import joinedload, selectinload

from bookings import capacity
from bookings.accounts.models import User
from bookings.booking.models import (
    Attendee,
    AttendeeStatus,
    Booking,
    BookingStatus,
    PaymentStatus,
)
from bookings.catalogue.models import Event, TicketType
from bookings.core import audit
from bookings.core.errors import Conflict, NotFound, RateLimited
from bookings.core.tokens import new_reference
from bookings.extensions import db


class HoldExpired(Conflict):
    code = "hold_expired"


@dataclass(frozen=True)
class BillingDetails:
    purchase_order: str = ""
    contact: str = ""
    email: str = ""
    address: str = ""


def hold_minutes_for(event: Event, *, card: bool = False) -> int:
    minutes = event.hold_minutes or current_app.config["HOLD_MINUTES"]
    # Stripe Checkout sessions last at least 30 minutes, so a card hold must too.
    return max(minutes, 30) if card else minutes


# The event with what a booking checks (its rates and questions) in one query: a handful of rows.
# Built once: building it cost more than running it.
_EVENT_FOR_BOOKING = (
    select(Event)
    .where(Event.id == bindparam("event_id"))
    .options(joinedload(Event.ticket_types), joinedload(Event.questions))
    .execution_options(populate_existing=True)
)


def event_for_booking(event_id: int) -> Event | None:
    """The event, loaded afresh with its rates and questions; None if there is none."""
    return db.session.scalars(_EVENT_FOR_BOOKING, {"event_id": event_id}).unique().one_or_none()


def load_event(event_id: int) -> Event:
    event = event_for_booking(event_id)
    if event is None:
        raise NotFound("There is no such event.")
    return event


def loaded_event(event_id: int) -> Event:
    """The event as this session already holds it (the API's view loads it with its rates and questions), else loaded.

    Held from before the caller's transaction, it may be out of date: the
    caller checks it under the event's lock (`updated_at`). An object the
    session has expired (after a rollback) is read afresh when used.
    """
    event = db.session.identity_map.get(db.session.identity_key(Event, event_id))
    return event if event is not None else load_event(event_id)


def get_booking_for(reference: str, user: User | None) -> Booking:
    """The booking, if `user` is its booker or an admin; NotFound otherwise (rule 6)."""
    booking = db.session.scalars(
        select(Booking)
        .where(Booking.reference == (reference or "").upper())
        .options(
            selectinload(Booking.attendees).selectinload(Attendee.ticket_type),
            selectinload(Booking.event).selectinload(Event.sessions),
            selectinload(Booking.event).selectinload(Event.questions),
        )
    ).one_or_none()
    if booking is None or user is None or not (user.is_admin or booking.booker_id == user.id):
        raise NotFound("There is no such booking.")
    return booking


def locked_booking(reference: str, actor: User | None) -> Booking:
    """Load a booking for a change, with its event locked first (lock order: event, then booking)."""
    event_id = db.session.scalar(select(Booking.event_id).where(Booking.reference == (reference or "").upper()))
    if event_id is None:
        raise NotFound("There is no such booking.")
    capacity.lock_event(event_id)
    return get_booking_for(reference, actor)


def check_hold_quota(booker_id: int, event_id: int, now: datetime, *, own_hold_written: bool = False) -> None:
    """No one person holds every place: caps on live holds per user, and per user on one event.

    `own_hold_written`: the hold being checked is already written in this
    transaction, so it is not counted against itself. Raises RateLimited with
    a plain message.
    """
    total, on_event = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((Booking.event_id == event_id, 1), else_=0)), 0))
        .select_from(Booking)
        .where(
            Booking.booker_id == booker_id,
            Booking.status == BookingStatus.HELD.value,
            Booking.hold_expires_at > now,
        )
    ).one()
    if own_hold_written:
        total, on_event = total - 1, on_event - 1
    if on_event >= current_app.config["MAX_LIVE_HOLDS_PER_EVENT_PER_USER"]:
        raise RateLimited(
            f"You already have {on_event} unfinished bookings for this event. "
            "Complete or cancel one before starting another."
        )
    if total >= current_app.config["MAX_LIVE_HOLDS_PER_USER"]:
        raise RateLimited(
            f"You already have {total} bookings waiting to be completed. "
            "Complete or cancel one before starting another."
        )


def release_previous_holds(booker_id: int, event_id: int, actor_id: int, now: datetime) -> None:
    """Starting again on the same event replaces the booker's unfinished booking for it."""
    previous = db.session.scalars(
        select(Booking).where(
            Booking.booker_id == booker_id,
            Booking.event_id == event_id,
            Booking.status == BookingStatus.HELD.value,
        )
    ).all()
    for booking in previous:
        booking.status = BookingStatus.CANCELLED.value
        booking.cancelled_at = now
        for attendee in booking.attendees:
            attendee.status = AttendeeStatus.CANCELLED.value
            attendee.cancelled_at = now
        audit.record(
            "booking.hold_replaced", "booking", booking.reference, actor_id=actor_id, event_id=event_id, at=now
        )


def create_hold(
    event: Event, ticket_type: TicketType, places: int, booker_id: int, now: datetime, *, card: bool, flush: bool = True
) -> Booking:
    """Write a held booking with one blank attendee per place. The caller has taken the places.

    `flush=False` leaves the rows to be inserted later, so a caller that fills
    them in at once inserts them complete instead of inserting then updating.
    """
    booking = Booking(
        reference=new_reference(),
        event_id=event.id,
        booker_id=booker_id,
        status=BookingStatus.HELD.value,
        payment_status=PaymentStatus.PENDING.value,
        hold_expires_at=now + timedelta(minutes=hold_minutes_for(event, card=card)),
        total_pence=ticket_type.price_pence * places,
        currency=ticket_type.currency,
        created_at=now,
    )
    for _ in range(places):
        booking.attendees.append(
            Attendee(
                event_id=event.id,
                ticket_type_id=ticket_type.id,
                ticket_type=ticket_type,
                status=AttendeeStatus.ACTIVE.value,  # set here, not by the column default, so it reads before a flush
                price_pence=ticket_type.price_pence,
                created_at=now,
            )
        )
    booking.event = event
    db.session.add(booking)
    if flush:
        db.session.flush()
    return booking
