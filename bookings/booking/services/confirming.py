"""Confirming bookings: free, invoice, and (through payments) card; the confirmation emails."""

from __future__ import annotations

from datetime import datetime

from bookings import capacity
from bookings.accounts.models import User
from bookings.booking import hooks
from bookings.booking.inputs import AttendeeInput, normalise_email, validate_attendee
from bookings.booking.models import (
    Booking,
    BookingStatus,
    PaymentMethod,
    PaymentStatus,
)
from bookings.booking.rules import (
    check_event_bookable,
    check_places_requested,
    pick_ticket_type,
)
from bookings.booking.services.common import (
    BillingDetails,
    HoldExpired,
    check_hold_quota,
    create_hold,
    load_event,
    locked_booking,
)
from bookings.booking.services.holding import apply_attendee_details, refit_expired_hold
from bookings.core import audit
from bookings.core.db import transactional
from bookings.core.errors import Conflict, ValidationError
from bookings.notifications.outbox import queue_email


def mark_confirmed(booking: Booking, *, method: PaymentMethod, actor_id: int | None, now: datetime) -> None:
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


def ensure_live_or_refit(booking: Booking, now: datetime) -> None:
    if booking.is_hold_live(now):
        return
    if not refit_expired_hold(booking, now):
        raise HoldExpired(
            "The time to complete this booking ran out and the places have since been taken.",
        )


def set_billing(booking: Booking, billing: BillingDetails | None) -> None:
    if billing is None:
        return
    booking.purchase_order = billing.purchase_order.strip()[:100]
    booking.billing_contact = billing.contact.strip()[:200]
    booking.billing_email = billing.email.strip()[:254]
    booking.billing_address = billing.address.strip()[:2000]


def check_payment_method(booking: Booking, method: PaymentMethod) -> None:
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
    booking = locked_booking(reference, actor)
    if booking.is_confirmed:
        return booking  # a repeated submit changes nothing
    if not booking.is_held and booking.status != BookingStatus.EXPIRED.value:
        raise Conflict("This booking can no longer be confirmed.", code="not_held")
    if not booking.is_details_complete:
        raise Conflict("Give the attendee details first.", code="details_missing")
    check_payment_method(booking, method)
    set_billing(booking, billing)
    if method is PaymentMethod.INVOICE and billing is not None:
        validate_invoice_billing(booking)
    ensure_live_or_refit(booking, now)
    mark_confirmed(booking, method=method, actor_id=actor.id, now=now)
    return booking


def validate_invoice_billing(booking: Booking) -> None:
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
        check_hold_quota(booker.id, event.id, now)
    capacity.take_places(event.id, {ticket_type.id: len(people)}, now)
    booking = create_hold(event, ticket_type, len(people), booker.id, now, card=card)
    apply_attendee_details(booking, people)
    set_billing(booking, billing)
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
        mark_confirmed(booking, method=method, actor_id=booker.id, now=now)
    return booking
