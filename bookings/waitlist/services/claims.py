"""Claiming an offer: it becomes a held booking for the same places."""

from __future__ import annotations

from datetime import datetime

from bookings import capacity
from bookings.accounts.models import User
from bookings.booking import services as booking_services
from bookings.booking.inputs import AttendeeInput
from bookings.booking.models import Booking, PaymentMethod
from bookings.booking.rules import check_event_bookable
from bookings.booking.services import BillingDetails, create_hold, load_event
from bookings.booking.services.confirming import check_payment_method
from bookings.core import audit
from bookings.core.db import after_the_wait, transactional
from bookings.core.errors import NotFound, ValidationError
from bookings.extensions import db
from bookings.waitlist.models import WaitlistStatus
from bookings.waitlist.services.errors import OfferExpired, OfferUsed
from bookings.waitlist.services.joining import _locked_entry

# --- claiming -------------------------------------------------------------------------------------------------------


@transactional
def claim_offer(*, entry_id: int, actor: User, now: datetime, card: bool = False) -> Booking:
    """Turn a live offer into a held booking for the same places; the journey continues from there.

    The hold lasts until the offer would have ended, or the normal hold time if
    that is longer. Raises NotFound, OfferUsed (claimed already), OfferExpired.
    """
    entry = _locked_entry(entry_id)
    if entry.user_id != actor.id:
        raise NotFound("There is no such waiting list entry.")
    if entry.status == WaitlistStatus.CLAIMED.value:
        booking = db.session.get(Booking, entry.claimed_booking_id) if entry.claimed_booking_id else None
        raise OfferUsed(
            "This offer has already been used.",
            booking_id=entry.claimed_booking_id,  # kept for clients that read it; the API names bookings by reference
            booking_reference=booking.reference if booking else None,
        )
    if not entry.is_offer_live(after_the_wait(now)):  # the lock may have been waited for past the offer's end
        raise OfferExpired("This offer has ended, so the places have passed to the next person in line.")
    event = load_event(entry.event_id)
    check_event_bookable(event, now)
    rate = next((t for t in event.ticket_types if t.id == entry.offer_ticket_type_id), None)
    if rate is None:
        raise OfferExpired("The rate these places were offered on no longer exists.")
    offer_expires_at = entry.offer_expires_at
    assert offer_expires_at is not None
    entry.status = WaitlistStatus.CLAIMED.value  # its offered places stop counting...
    entry.claimed_at = now
    db.session.flush()
    # ...and are taken again by the hold; no handler runs, so no one else can be given them.
    capacity.take_places(event.id, {rate.id: entry.places}, now, offer_freed_first=False)
    booking = create_hold(event, rate, entry.places, actor.id, now, card=card)
    if booking.hold_expires_at is not None and booking.hold_expires_at < offer_expires_at:
        booking.hold_expires_at = offer_expires_at
    entry.claimed_booking_id = booking.id
    audit.record(
        "waitlist.claimed",
        "waitlist_entry",
        entry.id,
        actor_id=actor.id,
        event_id=event.id,
        at=now,
        booking_reference=booking.reference,
    )
    audit.record(
        "booking.held",
        "booking",
        booking.reference,
        actor_id=actor.id,
        event_id=event.id,
        at=now,
        places=entry.places,
        ticket_type_id=rate.id,
        hold_expires_at=booking.hold_expires_at.isoformat() if booking.hold_expires_at else None,
        via="waitlist",
    )
    return booking


@transactional
def claim_offer_and_book(
    *,
    entry_id: int,
    actor: User,
    now: datetime,
    people: list[AttendeeInput],
    method: PaymentMethod,
    billing: BillingDetails | None = None,
) -> Booking:
    """The API's one step: claim the offer, record the attendees and, for free or invoice, confirm.

    With no attendees the places are only held (details and payment follow as
    for any held booking); card bookings stay held for checkout. All or
    nothing: on any error the offer stands untouched. Raises what
    `claim_offer` raises, and ValidationError.
    """
    booking = claim_offer(entry_id=entry_id, actor=actor, now=now, card=method is PaymentMethod.CARD)
    if not people:
        return booking
    booking_services.apply_attendee_details(booking, people)
    booking_services.set_billing(booking, billing)
    if method is PaymentMethod.CARD:
        if booking.total_pence == 0:
            raise ValidationError("These places are free: no payment is needed.", field="payment")
        return booking  # stays held for checkout
    check_payment_method(booking, method)
    booking_services.mark_confirmed(booking, method=method, actor_id=actor.id, now=now)
    return booking
