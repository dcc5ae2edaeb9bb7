"""Console services for bookings: book on someone's behalf (the audited capacity override), resend, check-in."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bookings import capacity
from bookings.accounts.models import Role, User
from bookings.accounts.passwords import hash_password
from bookings.admin.services.common import check_admin
from bookings.booking.inputs import AttendeeInput, normalise_email, validate_attendee
from bookings.booking.models import Attendee, Booking, PaymentMethod
from bookings.booking.rules import BookingClosed
from bookings.booking.services import (
    apply_attendee_details,
    create_hold,
    get_booking_for,
    load_event,
    mark_confirmed,
    send_confirmation_emails,
)
from bookings.core import audit
from bookings.core.db import transactional
from bookings.core.errors import Conflict, NotFound, ValidationError
from bookings.extensions import db

REASON_MAX = 500


# --- bookings -------------------------------------------------------------------------------------------------------


def _find_or_create_user(email: str, name: str, organisation: str, actor: User, now: datetime) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    if user is not None:
        return user
    # No password anyone knows: the person sets one through "forgotten password" if they ever sign in.
    user = User(
        email=email,
        name=name,
        organisation=organisation,
        role=Role.ATTENDEE.value,
        password_hash=hash_password(secrets.token_urlsafe(32)),
        created_at=now,
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user.created_by_admin", "user", user.id, actor_id=actor.id, at=now)
    return user


@transactional
def book_on_behalf(
    event_id: int,
    admin: User,
    booker_email: str,
    people: list[AttendeeInput],
    method: PaymentMethod,
    override: bool,
    reason: str,
    now: datetime,
    *,
    ticket_type_id: int | None = None,
    booker_name: str = "",
) -> Booking:
    """Book confirmed places for someone (found or created by email), free or by invoice.

    Capacity holds unless `override` is set with a reason: then the places are
    taken even past capacity, the booking is flagged and the override audited.
    Raises ValidationError (nothing written), BookingClosed, SoldOut, Forbidden.
    """
    check_admin(admin)
    capacity.lock_event(event_id)  # first: a cancellation committed meanwhile is what is checked
    event = load_event(event_id)
    if event.is_cancelled:
        raise BookingClosed("This event has been cancelled.")
    errors: dict[str, str] = {}
    try:
        booker_email = normalise_email(booker_email)
    except ValueError as error:
        errors["booker_email"] = str(error)
    if not people:
        errors["attendees-0-name"] = "Give at least one attendee"
    for index, person in enumerate(people):
        errors.update(validate_attendee(person, event.questions, f"attendees-{index}"))
    reason = (reason or "").strip()
    if override and not reason:
        errors["reason"] = "Give the reason for going over capacity"
    elif len(reason) > REASON_MAX:
        errors["reason"] = f"The reason must be {REASON_MAX} characters or fewer"
    rates = {t.id: t for t in event.ticket_types}
    if ticket_type_id is None and len(rates) == 1:
        ticket_type_id = next(iter(rates))
    ticket_type = rates.get(ticket_type_id) if ticket_type_id is not None else None
    if ticket_type is None:
        errors["ticket_type_id"] = "Choose a rate for this event"
    elif ticket_type.price_pence == 0 and method is not PaymentMethod.FREE:
        errors["method"] = "This rate is free: choose no payment"
    elif ticket_type.price_pence > 0 and method is not PaymentMethod.INVOICE:
        errors["method"] = "This rate is not free: choose invoice"
    if errors:
        raise ValidationError("Check the booking details.", errors=errors)
    assert ticket_type is not None
    places = len(people)
    first = people[0]
    booker = _find_or_create_user(
        booker_email, (booker_name or "").strip()[:200] or first.name, first.organisation, admin, now
    )
    taken = capacity.take_places(event.id, {ticket_type.id: places}, now, allow_over_capacity=override, locked=True)
    is_over = places > taken.places_left_for(ticket_type.id)
    booking = create_hold(event, ticket_type, places, booker.id, now, card=False)
    apply_attendee_details(booking, people)
    audit.record(
        "booking.held",
        "booking",
        booking.reference,
        actor_id=admin.id,
        event_id=event.id,
        at=now,
        places=places,
        ticket_type_id=ticket_type.id,
        via="admin",
        on_behalf_of=booker.id,
    )
    if is_over:
        booking.is_over_capacity = True
        audit.record(
            "booking.over_capacity",
            "booking",
            booking.reference,
            actor_id=admin.id,
            event_id=event.id,
            at=now,
            admin_email=admin.email,
            reason=reason,
            places=places,
            places_left_before=taken.places_left_for(ticket_type.id),
            capacity=event.capacity,
        )
    mark_confirmed(booking, method=method, actor_id=admin.id, now=now)
    return booking


@transactional
def resend_confirmation(reference: str, admin: User, now: datetime) -> Booking:
    """Write the confirmation emails again (with their calendar files). Raises NotFound, Conflict."""
    check_admin(admin)
    booking = get_booking_for(reference, admin)
    if not booking.is_confirmed:
        raise Conflict("Only a confirmed booking has a confirmation to resend.", code="not_confirmed")
    send_confirmation_emails(booking, now)
    audit.record(
        "booking.confirmation_resent",
        "booking",
        booking.reference,
        actor_id=admin.id,
        event_id=booking.event_id,
        at=now,
    )
    return booking


# --- check-in -------------------------------------------------------------------------------------------------------


def _attendee_for_check_in(attendee_id: int, event_id: int | None) -> Attendee:
    attendee = db.session.scalars(
        select(Attendee).where(Attendee.id == attendee_id).options(selectinload(Attendee.booking))
    ).one_or_none()
    if attendee is None or (event_id is not None and attendee.event_id != event_id):
        raise NotFound("There is no such attendee.")
    if not attendee.is_active or not attendee.booking.is_confirmed:
        raise Conflict("This place is not booked, so it cannot be checked in.", code="not_booked")
    return attendee


@transactional
def check_in(attendee_id: int, admin: User, now: datetime, *, event_id: int | None = None) -> Attendee:
    """Mark an attendee as attended (twice changes nothing). Raises NotFound, Conflict (`not_booked`)."""
    check_admin(admin)
    attendee = _attendee_for_check_in(attendee_id, event_id)
    if attendee.checked_in_at is None:
        attendee.checked_in_at = now
        audit.record(
            "attendee.checked_in",
            "booking",
            attendee.booking.reference,
            actor_id=admin.id,
            event_id=attendee.event_id,
            at=now,
            attendee_id=attendee.id,
        )
    return attendee


@transactional
def undo_check_in(attendee_id: int, admin: User, now: datetime, *, event_id: int | None = None) -> Attendee:
    """Take back a check-in made by mistake. Raises NotFound, Conflict."""
    check_admin(admin)
    attendee = _attendee_for_check_in(attendee_id, event_id)
    if attendee.checked_in_at is not None:
        attendee.checked_in_at = None
        audit.record(
            "attendee.check_in_undone",
            "booking",
            attendee.booking.reference,
            actor_id=admin.id,
            event_id=attendee.event_id,
            at=now,
            attendee_id=attendee.id,
        )
    return attendee
