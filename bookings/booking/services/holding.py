"""Holding places and recording attendee details (DESIGN.md rules 1 and 2)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from bookings import capacity
from bookings.accounts.models import User
from bookings.booking.inputs import AttendeeInput, validate_attendee
from bookings.booking.models import (
    MAX_HOLD_EXTENSIONS,
    Attendee,
    Booking,
    BookingStatus,
    PaymentMethod,
)
from bookings.booking.rules import (
    check_event_bookable,
    check_places_requested,
    pick_ticket_type,
)
from bookings.booking.services.common import (
    HoldExpired,
    check_hold_quota,
    create_hold,
    hold_minutes_for,
    load_event,
    locked_booking,
    release_previous_holds,
)
from bookings.core import audit
from bookings.core.db import after_the_wait, transactional
from bookings.core.errors import Conflict, SoldOut, ValidationError


@transactional
def hold_places(
    *,
    event_id: int,
    booker_id: int,
    ticket_type_id: int | None,
    places: int,
    now: datetime,
    replace_previous: bool = True,
    card: bool = False,
) -> Booking:
    """Hold `places` on one rate for the booker until the hold time runs out.

    Raises ValidationError (places, rate), BookingClosed, SoldOut (with places left), RateLimited.
    """
    capacity.lock_event(event_id)  # first: a cancellation or change committed meanwhile is what is checked
    event = load_event(event_id)
    check_event_bookable(event, now)
    check_places_requested(event, places)
    ticket_type = pick_ticket_type(event, ticket_type_id, now)
    if replace_previous:
        release_previous_holds(booker_id, event.id, booker_id, now)
    check_hold_quota(booker_id, event.id, now)
    capacity.take_places(event.id, {ticket_type.id: places}, now, locked=True)
    booking = create_hold(event, ticket_type, places, booker_id, now, card=card)
    audit.record(
        "booking.held",
        "booking",
        booking.reference,
        actor_id=booker_id,
        event_id=event.id,
        at=now,
        places=places,
        ticket_type_id=ticket_type.id,
        hold_expires_at=booking.hold_expires_at.isoformat(),
    )
    return booking


def apply_attendee_details(booking: Booking, people: list[AttendeeInput], *, validated: bool = False) -> None:
    """Write one block of details per place. `validated`: the caller has checked `people` against the questions."""
    active = booking.active_attendees
    if len(people) != len(active):
        raise ValidationError(
            f"Give details for exactly {len(active)} attendees.",
            errors={"attendees": f"Give details for each of the {len(active)} places"},
        )
    errors: dict[str, str] = {}
    for index, person in enumerate([] if validated else people):
        errors.update(validate_attendee(person, booking.event.questions, f"attendees-{index}"))
    if errors:
        raise ValidationError("Check the attendee details.", errors=errors)
    for attendee, person in zip(active, people, strict=True):
        write_person(attendee, person)
    booking.is_details_complete = True


def write_person(attendee: Attendee, person: AttendeeInput) -> None:
    """One person's (validated) details onto a place: the attendee page, the API and a substitution."""
    attendee.name = person.name
    attendee.email = person.email
    attendee.organisation = person.organisation
    attendee.job_title = person.job_title
    attendee.dietary_needs = person.dietary_needs
    attendee.access_needs = person.access_needs
    attendee.answers = person.answers


@transactional
def save_attendee_details(*, reference: str, actor: User, people: list[AttendeeInput], now: datetime) -> Booking:
    """Record one block of details per held place. Raises ValidationError, HoldExpired."""
    booking = locked_booking(reference, actor)
    if not booking.is_held:
        raise Conflict("This booking can no longer be changed here.", code="not_held")
    ensure_live_or_refit(booking, now, RELEASED)
    apply_attendee_details(booking, people)
    audit.record(
        "booking.details_saved", "booking", booking.reference, actor_id=actor.id, event_id=booking.event_id, at=now
    )
    return booking


@transactional
def extend_hold(*, reference: str, actor: User, now: datetime) -> Booking:
    """More time on a held booking: the hold runs for its full time again from now (WCAG 2.2.1).

    At most MAX_HOLD_EXTENSIONS times a booking. Under the event's lock, like
    everything that decides whether a hold still counts: a hold that ran out
    is given its places back only if they still fit. Raises HoldExpired,
    Conflict (not held, or no more extensions).
    """
    booking = locked_booking(reference, actor)
    if not booking.is_held:
        raise Conflict("This booking can no longer be changed here.", code="not_held")
    if booking.hold_extensions >= MAX_HOLD_EXTENSIONS:
        raise Conflict(
            "You have already had more time on these places as often as we can give it.", code="no_more_time"
        )
    ends = booking.hold_expires_at
    ensure_live_or_refit(booking, now, RELEASED)
    minutes = hold_minutes_for(booking.event, card=booking.payment_method == PaymentMethod.CARD.value)
    booking.hold_expires_at = max(ends, now + timedelta(minutes=minutes))  # a longer hold is kept
    booking.hold_extensions += 1
    audit.record(
        "booking.hold_extended",
        "booking",
        booking.reference,
        actor_id=actor.id,
        event_id=booking.event_id,
        at=now,
        hold_expires_at=booking.hold_expires_at.isoformat(),
        extensions=booking.hold_extensions,
    )
    return booking


RELEASED = "Your places were released because the time to complete the booking ran out."


def still_held(booking: Booking, now: datetime) -> bool:
    """Under the event's lock: does the hold still count? Live by the time the lock was got (`now` is when
    the request began, and the wait may have outlasted the hold: `core.db.after_the_wait`), or run out
    but its places taken again because they still fit."""
    now = after_the_wait(now)
    return booking.is_hold_live(now) or refit_expired_hold(booking, now)


def ensure_live_or_refit(
    booking: Booking,
    now: datetime,
    message: str = "The time to complete this booking ran out and the places have since been taken.",
) -> None:
    """`still_held`, or raise HoldExpired with `message`."""
    if not still_held(booking, now):
        raise HoldExpired(message)


def refit_expired_hold(booking: Booking, now: datetime) -> bool:
    """After a hold expired: do its places still fit? (They stopped counting when it expired.)"""
    wanted = Counter(a.ticket_type_id for a in booking.active_attendees)
    try:
        capacity.take_places(booking.event_id, dict(wanted), now)
    except SoldOut:
        return False
    booking.status = BookingStatus.HELD.value
    booking.hold_expires_at = now + timedelta(minutes=hold_minutes_for(booking.event))
    return True
