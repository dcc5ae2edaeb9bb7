"""Confirming bookings: free, invoice, and (through payments) card; the confirmation emails."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from bookings import capacity
from bookings.accounts.models import User
from bookings.booking import hooks
from bookings.booking.inputs import AttendeeInput, normalise_email, validate_attendee
from bookings.booking.models import (
    Attendee,
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
    loaded_event,
    locked_booking,
)
from bookings.booking.services.holding import apply_attendee_details, refit_expired_hold
from bookings.catalogue.models import Event, TicketType
from bookings.core import audit
from bookings.core.db import ReadAgain, in_write_transaction, sqlstate, transactional
from bookings.core.errors import Conflict, SoldOut, ValidationError
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

    A request that plainly cannot fit is refused from a read, before the lock
    (in a sold-out rush most requests are these); the locked transaction stays
    the authority whenever places appear to be left. Its confirmation emails
    are rendered by the mail process, not under the lock nor in the request
    (`notifications.outbox.queue_deferred`).
    """
    if not in_write_transaction():  # within a caller's transaction the lock is the only check
        refuse_if_plainly_sold_out(event_id, booker, ticket_type_id, people, method, now)
    return _book_places(
        event_id=event_id,
        booker=booker,
        ticket_type_id=ticket_type_id,
        people=people,
        method=method,
        now=now,
        billing=billing,
    )


FOREIGN_KEY_VIOLATION = "23503"  # PostgreSQL's SQLSTATE


def _checked_rate(
    event: Event,
    booker: User,
    ticket_type_id: int | None,
    people: list[AttendeeInput],
    method: PaymentMethod,
    now: datetime,
) -> TicketType:
    """Every check of a booking request that comes before its places are taken, in the order the API answers."""
    check_event_bookable(event, now)
    check_places_requested(event, len(people))
    ticket_type = pick_ticket_type(event, ticket_type_id, now)
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
    if method is PaymentMethod.CARD:
        check_hold_quota(booker.id, event.id, now)
    return ticket_type


def refuse_if_plainly_sold_out(
    event_id: int,
    booker: User,
    ticket_type_id: int | None,
    people: list[AttendeeInput],
    method: PaymentMethod,
    now: datetime,
) -> None:
    """Raise the locked path's own answer, from a plain read, when the request cannot fit.

    Safe because the locked path can only find fewer places: an expired claim
    already reads as free here, and the waiting list's share of freed places
    (offered under the lock first) only lowers what is left. When places
    appear to be left this returns and the locked transaction decides.
    Raises what `book_places` raises before taking places, then SoldOut.
    """
    if not people:
        raise ValidationError("Give at least one attendee.", field="attendees")
    event = db.session.get(Event, event_id)  # usually already loaded by the view: no query
    if event is None:
        return  # the locked path answers NotFound
    ticket_type = _checked_rate(event, booker, ticket_type_id, people, method, now)
    left = capacity.availability(event, now).places_left_for(ticket_type.id)
    if len(people) > left:
        raise SoldOut(sold_out_message(left, len(people)), places_left=left)


def sold_out_message(left: int, asked: int) -> str:
    """The words of `capacity.take_places`' SoldOut (tests/api check that both paths answer alike)."""
    if left == 0:
        return "There are no places left."
    place_word = "place" if left == 1 else "places"
    return f"Only {left} {place_word} left; you asked for {asked}."


# keep_loaded: the API answers with the booking as written, without reading it back;
# keep_reads: the booker and the event the request has read are used as read (checked under the lock).
@transactional(keep_loaded=True, keep_reads=True)
def _book_places(
    *,
    event_id: int,
    booker: User,
    ticket_type_id: int | None,
    people: list[AttendeeInput],
    method: PaymentMethod,
    now: datetime,
    billing: BillingDetails | None,
) -> Booking:
    """Rows first, lock last: the event's lock is held for the count and the commit only.

    The booking is checked, built and inserted before the event is locked
    (inserts that only reference the event do not wait for its lock). Then
    `take_places(written=True)` counts, under the lock, every claim but this
    one, after offering freed places to the waiting list, and raises SoldOut,
    which rolls all of it back, if this one does not fit.

    The booker and the event (with its rates and questions) are those the
    request has already read, usually in the view, before this transaction
    began; they are not read again. Under the lock the event's `updated_at`
    is compared with the one read: if the event, one of its rates or its
    questions changed since, the whole transaction runs again (`ReadAgain`),
    reading afresh. On both databases: on SQLite the reads came before the
    write lock too. A refusal on what was read (a validation error, booking
    closed) is given as it is, as the view's own sold-out check is: it writes
    nothing, and it was true when the request read the event. An invoice is issued
    after the count, under the lock, as on every other path (one lock order:
    the event, then the invoice numbers).
    """
    if not people:
        raise ValidationError("Give at least one attendee.", field="attendees")
    booker_id = booker.id
    event = loaded_event(event_id)  # with its rates and questions
    read_as_of = event.updated_at
    ticket_type = _checked_rate(event, booker, ticket_type_id, people, method, now)
    card = method is PaymentMethod.CARD
    # Inserted once, complete: details and (free) confirmation are set before the first flush.
    booking = create_hold(event, ticket_type, len(people), booker_id, now, card=card, flush=False)
    apply_attendee_details(booking, people, validated=True)  # by _checked_rate, against the same questions
    set_billing(booking, billing)
    audit.record(
        "booking.held",
        "booking",
        booking.reference,
        actor_id=booker_id,
        event_id=event.id,
        at=now,
        places=len(people),
        ticket_type_id=ticket_type.id,
        via="api",
    )
    if method is PaymentMethod.FREE:
        # Its emails are left to the mail process; an invoice booking's invoice is issued by an
        # attachment hook (payments) when it is confirmed, below.
        mark_confirmed(booking, method=method, actor_id=booker_id, now=now, defer_emails=True)
    try:
        db.session.flush()
    except IntegrityError as error:
        if sqlstate(error) == FOREIGN_KEY_VIOLATION:
            # The rate read a moment ago was removed (and committed) before these rows went in.
            raise ReadAgain("the rate was removed while the booking was written") from error
        raise
    # Every change to an event, its rates or its questions moves updated_at under this lock
    # (catalogue.update_event, admin.services.events).
    if capacity.lock_event(event_id).updated_at != read_as_of:
        raise ReadAgain("the event changed after the booking read it")
    if card and capacity.reads_before_lock_may_be_stale():  # on SQLite the check above ran under the write lock
        check_hold_quota(booker_id, event_id, now, own_hold_written=True)  # two requests of one booker meet here
    capacity.take_places(event.id, {ticket_type.id: len(people)}, now, locked=True, written=True)
    if method is PaymentMethod.INVOICE:
        mark_confirmed(booking, method=method, actor_id=booker_id, now=now)
    return booking
