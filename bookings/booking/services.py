"""Bookings: holding places, attendee details, confirming, cancelling, substituting, expiring.

Rules owned here (DESIGN.md 1, 2, 6, 7, 8): every change of places goes
through `bookings.capacity.take_places` inside the service's own write
transaction; a hold lasts until `hold_expires_at` and stops counting the
moment it passes; only the booker or an admin reaches a booking; each change
writes its audit row and its emails in the same transaction.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from bookings import capacity
from bookings.accounts.models import User
from bookings.booking import hooks
from bookings.booking.inputs import AttendeeInput, normalise_email, validate_attendee
from bookings.booking.models import (
    Attendee,
    AttendeeStatus,
    Booking,
    BookingStatus,
    PaymentMethod,
    PaymentStatus,
)
from bookings.booking.rules import (
    check_can_cancel,
    check_can_substitute,
    check_event_bookable,
    check_places_requested,
    pick_ticket_type,
)
from bookings.catalogue.models import Event, TicketType
from bookings.core import audit
from bookings.core.db import transactional
from bookings.core.errors import Conflict, NotFound, RateLimited, SoldOut, ValidationError
from bookings.core.tokens import new_reference
from bookings.extensions import db
from bookings.notifications.outbox import queue_email

EXPIRE_BATCH = 500


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


def load_event(event_id: int) -> Event:
    event = db.session.scalars(
        select(Event)
        .where(Event.id == event_id)
        .options(selectinload(Event.ticket_types), selectinload(Event.questions))
    ).one_or_none()
    if event is None:
        raise NotFound("There is no such event.")
    return event


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


def _locked_booking(reference: str, actor: User | None) -> Booking:
    """Load a booking for a change, with its event locked first (lock order: event, then booking)."""
    event_id = db.session.scalar(select(Booking.event_id).where(Booking.reference == (reference or "").upper()))
    if event_id is None:
        raise NotFound("There is no such booking.")
    capacity.lock_event(event_id)
    return get_booking_for(reference, actor)


def _check_hold_quota(booker_id: int, event_id: int, now: datetime) -> None:
    """No one person holds every place: a cap on live holds per user (issue: hoarding)."""
    live = db.session.scalar(
        select(func.count())
        .select_from(Booking)
        .where(
            Booking.booker_id == booker_id,
            Booking.status == BookingStatus.HELD.value,
            Booking.hold_expires_at > now,
        )
    )
    limit = current_app.config["MAX_LIVE_HOLDS_PER_USER"]
    if live >= limit:
        raise RateLimited(
            f"You already have {live} bookings waiting to be completed. Complete or cancel one before starting another."
        )


def _release_previous_holds(booker_id: int, event_id: int, actor_id: int, now: datetime) -> None:
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
    event: Event, ticket_type: TicketType, places: int, booker_id: int, now: datetime, *, card: bool
) -> Booking:
    """Write a held booking with one blank attendee per place. The caller has taken the places."""
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
                price_pence=ticket_type.price_pence,
                created_at=now,
            )
        )
    db.session.add(booking)
    db.session.flush()
    return booking


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
    event = load_event(event_id)
    check_event_bookable(event, now)
    check_places_requested(event, places)
    ticket_type = pick_ticket_type(event, ticket_type_id, now)
    if replace_previous:
        _release_previous_holds(booker_id, event.id, booker_id, now)
    _check_hold_quota(booker_id, event.id, now)
    capacity.take_places(event.id, {ticket_type.id: places}, now)
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


def _apply_attendee_details(booking: Booking, people: list[AttendeeInput]) -> None:
    active = booking.active_attendees
    if len(people) != len(active):
        raise ValidationError(
            f"Give details for exactly {len(active)} attendees.",
            errors={"attendees": f"Give details for each of the {len(active)} places"},
        )
    errors: dict[str, str] = {}
    for index, person in enumerate(people):
        errors.update(validate_attendee(person, booking.event.questions, f"attendees-{index}"))
    if errors:
        raise ValidationError("Check the attendee details.", errors=errors)
    for attendee, person in zip(active, people, strict=True):
        attendee.name = person.name
        attendee.email = person.email
        attendee.organisation = person.organisation
        attendee.job_title = person.job_title
        attendee.dietary_needs = person.dietary_needs
        attendee.access_needs = person.access_needs
        attendee.answers = person.answers
    booking.is_details_complete = True


@transactional
def save_attendee_details(*, reference: str, actor: User, people: list[AttendeeInput], now: datetime) -> Booking:
    """Record one block of details per held place. Raises ValidationError, HoldExpired."""
    booking = _locked_booking(reference, actor)
    if not booking.is_held:
        raise Conflict("This booking can no longer be changed here.", code="not_held")
    if not booking.is_hold_live(now) and not _fits_again(booking, now):
        raise HoldExpired("Your places were released because the time to complete the booking ran out.")
    _apply_attendee_details(booking, people)
    audit.record(
        "booking.details_saved", "booking", booking.reference, actor_id=actor.id, event_id=booking.event_id, at=now
    )
    return booking


def _fits_again(booking: Booking, now: datetime) -> bool:
    """After a hold expired: do its places still fit? (They stopped counting when it expired.)"""
    wanted = Counter(a.ticket_type_id for a in booking.active_attendees)
    try:
        capacity.take_places(booking.event_id, dict(wanted), now)
    except SoldOut:
        return False
    booking.status = BookingStatus.HELD.value
    booking.hold_expires_at = now + timedelta(minutes=hold_minutes_for(booking.event))
    return True


def _confirm(booking: Booking, *, method: PaymentMethod, actor_id: int | None, now: datetime) -> None:
    booking.status = BookingStatus.CONFIRMED.value
    booking.payment_method = method.value
    booking.payment_status = {
        PaymentMethod.FREE: PaymentStatus.NOT_REQUIRED,
        PaymentMethod.INVOICE: PaymentStatus.INVOICED,
        PaymentMethod.CARD: PaymentStatus.PAID,
    }[method].value
    booking.confirmed_at = now
    booking.hold_expires_at = None
    audit.record(
        "booking.confirmed",
        "booking",
        booking.reference,
        actor_id=actor_id,
        event_id=booking.event_id,
        at=now,
        payment_method=method.value,
        places=len(booking.active_attendees),
    )
    send_confirmation_emails(booking, now)


def send_confirmation_emails(booking: Booking, now: datetime) -> None:
    """The booker's confirmation, and each other attendee's own (written to the outbox)."""
    event = booking.event
    attachments = hooks.attachments_for(booking, "confirmed")
    if booking.booker is not None:
        queue_email(
            "booking_confirmed",
            to=booking.booker.email,
            subject=f"Booking confirmed: {event.title} ({booking.reference})",
            now=now,
            attachments=attachments,
            booking_reference=booking.reference,
            event_id=event.id,
            booking=booking,
            event=event,
        )
    booker_email = booking.booker.email if booking.booker else None
    for attendee in booking.active_attendees:
        if attendee.email and attendee.email != booker_email:
            queue_email(
                "attendee_confirmed",
                to=attendee.email,
                subject=f"Your place at {event.title}",
                now=now,
                attachments=attachments,
                booking_reference=booking.reference,
                event_id=event.id,
                booking=booking,
                event=event,
                attendee=attendee,
            )


def _ensure_live_or_refit(booking: Booking, now: datetime) -> None:
    if booking.is_hold_live(now):
        return
    if not _fits_again(booking, now):
        raise HoldExpired(
            "The time to complete this booking ran out and the places have since been taken.",
        )


def _set_billing(booking: Booking, billing: BillingDetails | None) -> None:
    if billing is None:
        return
    booking.purchase_order = billing.purchase_order.strip()[:100]
    booking.billing_contact = billing.contact.strip()[:200]
    booking.billing_email = billing.email.strip()[:254]
    booking.billing_address = billing.address.strip()[:2000]


def _check_payment_method(booking: Booking, method: PaymentMethod) -> None:
    if booking.total_pence == 0:
        if method is not PaymentMethod.FREE:
            raise ValidationError("This booking is free: no payment is needed.", field="payment")
        return
    if method is PaymentMethod.FREE:
        raise ValidationError("Choose how to pay.", field="payment")
    if method is PaymentMethod.INVOICE and not booking.event.allow_invoice:
        raise ValidationError("This event cannot be paid by invoice. Pay by card instead.", field="payment")
    if method is PaymentMethod.CARD:
        raise ValidationError("Card payments go through checkout.", field="payment")


@transactional
def confirm_booking(
    *,
    reference: str,
    actor: User,
    method: PaymentMethod,
    now: datetime,
    billing: BillingDetails | None = None,
) -> Booking:
    """Confirm a held booking that is free or paid by invoice.

    An expired hold is confirmed only if its places still fit. Raises
    ValidationError, HoldExpired, Conflict (not held / details missing).
    """
    booking = _locked_booking(reference, actor)
    if booking.is_confirmed:
        return booking  # a repeated submit changes nothing
    if not booking.is_held and booking.status != BookingStatus.EXPIRED.value:
        raise Conflict("This booking can no longer be confirmed.", code="not_held")
    if not booking.is_details_complete:
        raise Conflict("Give the attendee details first.", code="details_missing")
    _check_payment_method(booking, method)
    _set_billing(booking, billing)
    if method is PaymentMethod.INVOICE and billing is not None:
        _validate_invoice_billing(booking)
    _ensure_live_or_refit(booking, now)
    _confirm(booking, method=method, actor_id=actor.id, now=now)
    return booking


def _validate_invoice_billing(booking: Booking) -> None:
    errors = {}
    if not booking.billing_contact:
        errors["billing_contact"] = "Enter the name of the person who pays invoices"
    if not booking.billing_address:
        errors["billing_address"] = "Enter the billing address"
    if booking.billing_email:
        try:
            booking.billing_email = normalise_email(booking.billing_email)
        except ValueError as error:
            errors["billing_email"] = str(error)
    if errors:
        raise ValidationError("Check the billing details.", errors=errors)


@transactional
def book_places(
    *,
    event_id: int,
    booker: User,
    ticket_type_id: int | None,
    people: list[AttendeeInput],
    method: PaymentMethod,
    now: datetime,
    billing: BillingDetails | None = None,
) -> Booking:
    """One step (the API): hold, record attendees and, for free or invoice, confirm.

    Card bookings stay held for checkout. All or nothing: on any error no
    place is taken. Raises ValidationError, BookingClosed, SoldOut, RateLimited.
    """
    if not people:
        raise ValidationError("Give at least one attendee.", field="attendees")
    event = load_event(event_id)
    check_event_bookable(event, now)
    check_places_requested(event, len(people))
    ticket_type = pick_ticket_type(event, ticket_type_id, now)
    card = method is PaymentMethod.CARD
    # Validate everything before taking places, so bad input never touches capacity.
    errors: dict[str, str] = {}
    for index, person in enumerate(people):
        errors.update(validate_attendee(person, event.questions, f"attendees-{index}"))
    if errors:
        raise ValidationError("Check the attendee details.", errors=errors)
    total = ticket_type.price_pence * len(people)
    if total == 0 and method is not PaymentMethod.FREE:
        raise ValidationError('This rate is free: use payment "free".', field="payment")
    if total > 0 and method is PaymentMethod.FREE:
        raise ValidationError('This rate is not free: use payment "invoice" or "card".', field="payment")
    if method is PaymentMethod.INVOICE and not event.allow_invoice:
        raise ValidationError("This event cannot be paid by invoice.", field="payment")
    if card:
        _check_hold_quota(booker.id, event.id, now)
    capacity.take_places(event.id, {ticket_type.id: len(people)}, now)
    booking = create_hold(event, ticket_type, len(people), booker.id, now, card=card)
    _apply_attendee_details(booking, people)
    _set_billing(booking, billing)
    audit.record(
        "booking.held",
        "booking",
        booking.reference,
        actor_id=booker.id,
        event_id=event.id,
        at=now,
        places=len(people),
        ticket_type_id=ticket_type.id,
        via="api",
    )
    if not card:
        _confirm(booking, method=method, actor_id=booker.id, now=now)
    return booking


@transactional
def cancel_booking(
    *,
    reference: str,
    actor: User,
    now: datetime,
    attendee_ids: list[int] | None = None,
    reason: str = "",
) -> Booking:
    """Cancel some places or the whole booking before the cut-off (admins may go past it).

    Freed places go to the waiting list first. Raises NotFound, CutoffPassed, ValidationError.
    """
    booking = _locked_booking(reference, actor)
    if booking.is_cancelled or booking.status == BookingStatus.EXPIRED.value:
        if attendee_ids:
            raise Conflict("This booking is already cancelled.", code="not_active")
        return booking  # cancelling twice changes nothing
    check_can_cancel(booking, now, is_admin=actor.is_admin)
    active = {a.id: a for a in booking.active_attendees}
    if attendee_ids:
        unknown = [i for i in attendee_ids if i not in active]
        if unknown:
            raise ValidationError("Choose places that belong to this booking.", field="attendee_ids")
        chosen = [active[i] for i in dict.fromkeys(attendee_ids)]
    else:
        chosen = list(active.values())
    was_held = booking.is_held
    for attendee in chosen:
        attendee.status = AttendeeStatus.CANCELLED.value
        attendee.cancelled_at = now
    if len(chosen) == len(active):
        booking.status = BookingStatus.CANCELLED.value
        booking.cancelled_at = now
    booking.total_pence = sum(a.price_pence for a in booking.active_attendees)
    audit.record(
        "booking.cancelled" if booking.is_cancelled else "booking.places_cancelled",
        "booking",
        booking.reference,
        actor_id=actor.id,
        event_id=booking.event_id,
        at=now,
        attendee_ids=[a.id for a in chosen],
        reason=reason,
    )
    if not was_held:
        for handler in hooks.cancel_handlers.values():
            handler(booking, chosen, actor.id, now)
        _queue_cancellation_emails(booking, chosen, now)
    capacity.offer_freed_places(booking.event_id, now)
    return booking


def _queue_cancellation_emails(booking: Booking, cancelled: list[Attendee], now: datetime) -> None:
    event = booking.event
    if booking.booker is not None:
        queue_email(
            "booking_cancelled",
            to=booking.booker.email,
            subject=f"Cancelled: {event.title} ({booking.reference})",
            now=now,
            attachments=hooks.attachments_for(booking, "cancelled"),
            booking_reference=booking.reference,
            event_id=event.id,
            booking=booking,
            event=event,
            cancelled=cancelled,
        )


@transactional
def substitute_attendee(
    *, reference: str, attendee_id: int, name: str, email: str, actor: User, now: datetime
) -> Attendee:
    """Give a place to a colleague before the substitution cut-off. Raises ValidationError, CutoffPassed."""
    booking = _locked_booking(reference, actor)
    check_can_substitute(booking, now, is_admin=actor.is_admin)
    attendee = next((a for a in booking.active_attendees if a.id == attendee_id), None)
    if attendee is None:
        raise NotFound("There is no such attendee on this booking.")
    person = AttendeeInput(name=name, email=email)
    errors = validate_attendee(person, [], "substitute")
    if errors:
        raise ValidationError("Check the new attendee's details.", errors=errors)
    old = {"name": attendee.name, "email": attendee.email}
    attendee.name = person.name
    attendee.email = person.email
    # Requirements and answers belonged to the person who is no longer coming.
    attendee.dietary_needs = ""
    attendee.access_needs = ""
    attendee.job_title = ""
    attendee.answers = {}
    audit.record(
        "attendee.substituted",
        "booking",
        booking.reference,
        actor_id=actor.id,
        event_id=booking.event_id,
        at=now,
        attendee_id=attendee.id,
        previous=old,
        new={"name": person.name, "email": person.email},
    )
    queue_email(
        "attendee_confirmed",
        to=attendee.email,
        subject=f"Your place at {booking.event.title}",
        now=now,
        attachments=hooks.attachments_for(booking, "confirmed"),
        booking_reference=booking.reference,
        event_id=booking.event_id,
        booking=booking,
        event=booking.event,
        attendee=attendee,
    )
    return attendee


@transactional
def _expire_event_holds(event_id: int, now: datetime) -> int:
    capacity.lock_event(event_id)
    expired = db.session.scalars(
        select(Booking)
        .where(
            Booking.event_id == event_id,
            Booking.status == BookingStatus.HELD.value,
            Booking.hold_expires_at <= now,
        )
        .options(selectinload(Booking.booker), selectinload(Booking.event))
        .limit(EXPIRE_BATCH)
    ).all()
    for booking in expired:
        booking.status = BookingStatus.EXPIRED.value
        booking.expired_at = now
        audit.record("booking.expired", "booking", booking.reference, actor_id=None, event_id=event_id, at=now)
        if booking.booker is not None and booking.is_details_complete:
            queue_email(
                "hold_expired",
                to=booking.booker.email,
                subject=f"Your places for {booking.event.title} were released",
                now=now,
                booking_reference=booking.reference,
                event_id=event_id,
                booking=booking,
                event=booking.event,
            )
    if expired:
        capacity.offer_freed_places(event_id, now)
    return len(expired)


def expire_holds(now: datetime) -> int:
    """Mark holds past their time as expired and pass their places on. Idempotent; safe on many hosts."""
    total = 0
    event_ids = db.session.scalars(
        select(Booking.event_id)
        .where(Booking.status == BookingStatus.HELD.value, Booking.hold_expires_at <= now)
        .distinct()
    ).all()
    db.session.commit()
    for event_id in event_ids:
        while True:
            count = _expire_event_holds(event_id, now)
            total += count
            if count < EXPIRE_BATCH:
                break
    return total


def my_bookings(user: User, now: datetime) -> tuple[list[Booking], list[Booking]]:
    """The user's bookings: (upcoming, past), held-but-expired ones left out."""
    bookings = db.session.scalars(
        select(Booking)
        .where(
            Booking.booker_id == user.id,
            Booking.status.in_(
                [BookingStatus.CONFIRMED.value, BookingStatus.CANCELLED.value, BookingStatus.HELD.value]
            ),
        )
        .options(selectinload(Booking.event).selectinload(Event.sessions), selectinload(Booking.attendees))
        .order_by(Booking.created_at.desc())
    ).all()
    upcoming: list[Booking] = []
    past: list[Booking] = []
    for booking in bookings:
        if booking.is_held and not booking.is_hold_live(now):
            continue
        ends_at = booking.event.ends_at
        (past if ends_at is not None and ends_at < now else upcoming).append(booking)
    upcoming.sort(key=lambda b: b.event.starts_at or now)
    return upcoming, past
