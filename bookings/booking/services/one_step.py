"""The API's one-step booking: checked, written, then counted under the event's lock (rows first, lock last)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError

from bookings import capacity
from bookings.accounts.models import User
from bookings.booking.inputs import AttendeeInput, validate_attendee
from bookings.booking.models import Booking, PaymentMethod
from bookings.booking.rules import check_event_bookable, check_places_requested, pick_ticket_type
from bookings.booking.services.common import BillingDetails, check_hold_quota, create_hold, loaded_event
from bookings.booking.services.confirming import mark_confirmed, set_billing
from bookings.booking.services.holding import apply_attendee_details
from bookings.catalogue.models import Event, TicketType
from bookings.core import audit
from bookings.core.db import ReadAgain, in_write_transaction, sqlstate, transactional
from bookings.core.errors import SoldOut, ValidationError
from bookings.extensions import db


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
        raise SoldOut(capacity.sold_out_message(left, len(people)), places_left=left)


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
