"""Confirming bookings: free, invoice, and (through payments) card; the confirmation emails."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from bookings.accounts.models import User
from bookings.booking import hooks
from bookings.booking.inputs import normalise_email
from bookings.booking.models import (
    Attendee,
    Booking,
    BookingStatus,
    PaymentMethod,
    PaymentStatus,
)
from bookings.booking.services.common import (
    BillingDetails,
    locked_booking,
)
from bookings.booking.services.holding import ensure_live_or_refit
from bookings.catalogue.models import Event
from bookings.core import audit
from bookings.core.db import transactional
from bookings.core.errors import Conflict, ValidationError
from bookings.extensions import db
from bookings.notifications.outbox import Rendering, queue_deferred, queue_email, register_renderer


def mark_confirmed(
    booking: Booking, *, method: PaymentMethod, actor_id: int | None, now: datetime, defer_emails: bool = False
) -> None:
    """Confirm in the caller's transaction. `defer_emails`: the mail process renders them (see below)."""
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
    send_confirmation_emails(booking, now, deferred=defer_emails)


CONFIRMATION_RENDERER = "booking.confirmed"


def send_confirmation_emails(booking: Booking, now: datetime, *, deferred: bool = False) -> None:
    """The booker's confirmation, and each other attendee's own (written to the outbox).

    `deferred`: queue them unrendered, for the mail process to render before
    it sends (`notifications.outbox.queue_deferred`), so the templates and the
    calendar file are built neither under the event's lock nor in the request.
    """
    db.session.flush()  # a booking made in this transaction gets its ids (the recipes and templates need them)
    event = booking.event
    booker_email = booking.booker.email if booking.booker else None
    # (template, to, subject, attendee or None)
    messages = []
    if booker_email is not None:
        messages.append(
            ("booking_confirmed", booker_email, f"Booking confirmed: {event.title} ({booking.reference})", None)
        )
    for attendee in booking.active_attendees:
        if attendee.email and attendee.email != booker_email:
            messages.append(("attendee_confirmed", attendee.email, f"Your place at {event.title}", attendee))
    if deferred:
        for template, to, subject, attendee in messages:
            queue_deferred(
                template,
                renderer=CONFIRMATION_RENDERER,
                params={"reference": booking.reference, "attendee_id": attendee.id if attendee else None},
                to=to,
                subject=subject,
                now=now,
                booking_reference=booking.reference,
                event_id=event.id,
            )
        return
    attachments = hooks.attachments_for(booking, "confirmed") if messages else []
    for template, to, subject, attendee in messages:
        extra = {"attendee": attendee} if attendee is not None else {}
        queue_email(
            template,
            to=to,
            subject=subject,
            now=now,
            attachments=attachments,
            booking_reference=booking.reference,
            event_id=event.id,
            booking=booking,
            event=event,
            **extra,
        )


def _render_confirmation(params: dict[str, Any], memo: dict[str, Any]) -> Rendering:
    """A deferred confirmation: the booking as it is now, loaded once for all its messages."""
    reference = params["reference"]
    key = f"{CONFIRMATION_RENDERER}:{reference}"
    if key not in memo:
        booking = db.session.scalars(
            select(Booking)
            .where(Booking.reference == reference)
            .options(
                joinedload(Booking.event).selectinload(Event.sessions),
                joinedload(Booking.booker),
                selectinload(Booking.attendees).joinedload(Attendee.ticket_type),
            )
        ).one()
        memo[key] = (booking, hooks.attachments_for(booking, "confirmed"))
    booking, attachments = memo[key]
    context: dict[str, Any] = {"booking": booking, "event": booking.event}
    if params.get("attendee_id") is not None:
        context["attendee"] = next(a for a in booking.attendees if a.id == params["attendee_id"])
    return Rendering(context=context, attachments=attachments)


register_renderer(CONFIRMATION_RENDERER, _render_confirmation)


# The longest each billing detail may be (the form's and the API's field names).
BILLING_LIMITS = {"purchase_order": 100, "billing_contact": 200, "billing_email": 254, "billing_address": 2000}


def set_billing(booking: Booking, billing: BillingDetails | None) -> None:
    """Record the billing details; one too long is refused (ValidationError), never cut short."""
    if billing is None:
        return
    values = {
        "purchase_order": billing.purchase_order.strip(),
        "billing_contact": billing.contact.strip(),
        "billing_email": billing.email.strip(),
        "billing_address": billing.address.strip(),
    }
    errors = {
        field: f"Use {BILLING_LIMITS[field]} characters or fewer"
        for field, value in values.items()
        if len(value) > BILLING_LIMITS[field]
    }
    if errors:
        raise ValidationError("Check the billing details.", errors=errors)
    for field, value in values.items():
        setattr(booking, field, value)


def check_payment_method(booking: Booking, method: PaymentMethod) -> None:
    """Nothing to pay (a free rate, or a discount of the whole price) means `free`; otherwise card or invoice."""
    if hooks.amount_due(booking) == 0:
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
