"""Joining and leaving the list, and declining an offer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bookings import capacity
from bookings.accounts.models import User
from bookings.booking.rules import check_event_bookable, check_places_requested
from bookings.booking.services import load_event
from bookings.catalogue.models import Event
from bookings.core import audit
from bookings.core.db import transactional
from bookings.core.errors import Conflict, NotFound, ValidationError
from bookings.extensions import db
from bookings.notifications.outbox import queue_email
from bookings.waitlist.models import WaitlistEntry, WaitlistStatus
from bookings.waitlist.services.errors import AlreadyOnWaitlist, OfferExpired, PlacesAvailable, WaitlistClosed
from bookings.waitlist.services.offers import run_offers
from bookings.waitlist.services.queries import current_entry, get_entry_for, position_of


def _locked_entry(entry_id: int) -> WaitlistEntry:
    event_id = db.session.scalar(select(WaitlistEntry.event_id).where(WaitlistEntry.id == entry_id))
    if event_id is None:
        raise NotFound("There is no such waiting list entry.")
    capacity.lock_event(event_id)
    entry = db.session.scalars(
        select(WaitlistEntry).where(WaitlistEntry.id == entry_id).execution_options(populate_existing=True)
    ).one()
    return entry


# --- joining and leaving --------------------------------------------------------------------------------------------


def _fits_now(event: Event, ticket_type_id: int | None, places: int, left: capacity.Availability, now: datetime):
    rates = [t for t in event.ticket_types if t.is_on_sale(now)]
    if ticket_type_id is not None:
        rates = [t for t in rates if t.id == ticket_type_id]
    return any(left.places_left_for(t.id) >= places for t in rates)


@transactional
def join_waitlist(
    *,
    event_id: int,
    user: User,
    places: int,
    now: datetime,
    ticket_type_id: int | None = None,
    has_email_consent: bool = True,
) -> WaitlistEntry:
    """Put the user in line for `places` on a full event (or one with too few places left).

    Raises BookingClosed, WaitlistClosed, ValidationError, AlreadyOnWaitlist,
    PlacesAvailable (book instead).
    """
    capacity.lock_event(event_id)
    event = load_event(event_id)
    check_event_bookable(event, now)
    if not event.is_waitlist_open:
        raise WaitlistClosed("The waiting list for this event is closed.")
    check_places_requested(event, places)
    if ticket_type_id is not None and ticket_type_id not in {t.id for t in event.ticket_types}:
        raise ValidationError("Choose a rate for this event.", field="ticket_type_id")
    if not has_email_consent:
        raise ValidationError(
            "Agree to be emailed, so that we can tell you when places are offered.", field="has_email_consent"
        )
    if current_entry(event.id, user.id, now) is not None:
        raise AlreadyOnWaitlist("You are already on the waiting list for this event.")
    # Places freed since the last look go to people already in line before we judge what is left.
    run_offers(event.id, now)
    left = capacity.availability(event, now)
    if _fits_now(event, ticket_type_id, places, left, now):
        raise PlacesAvailable("There are enough places left: book them instead.", places_left=left.places_left)
    entry = WaitlistEntry(
        event_id=event.id,
        user_id=user.id,
        ticket_type_id=ticket_type_id,
        places=places,
        status=WaitlistStatus.WAITING.value,
        joined_at=now,
        has_email_consent=has_email_consent,
    )
    db.session.add(entry)
    db.session.flush()
    audit.record(
        "waitlist.joined",
        "waitlist_entry",
        entry.id,
        actor_id=user.id,
        event_id=event.id,
        at=now,
        places=places,
        ticket_type_id=ticket_type_id,
    )
    queue_email(
        "waitlist_joined",
        to=user.email,
        subject=f"You are on the waiting list: {event.title}",
        now=now,
        event_id=event.id,
        event=event,
        entry=entry,
        position=position_of(entry, now),
    )
    return entry


def _end_entry(entry: WaitlistEntry, status: WaitlistStatus, actor_id: int | None, now: datetime) -> bool:
    """Take an entry out of line; True when it held a live offer (its places are free again)."""
    had_offer = entry.is_offer_live(now)
    entry.status = status.value
    if status is WaitlistStatus.DECLINED:
        entry.declined_at = now
    else:
        entry.withdrawn_at = now
    audit.record(
        f"waitlist.{status.value}", "waitlist_entry", entry.id, actor_id=actor_id, event_id=entry.event_id, at=now
    )
    return had_offer


@transactional
def leave_waitlist(*, entry_id: int, actor: User, now: datetime) -> WaitlistEntry:
    """Leave the list (giving up any offer). Leaving twice changes nothing; an entry already ended raises Conflict.

    Raises NotFound, Conflict (`not_on_waitlist`).
    """
    entry = _locked_entry(entry_id)
    get_entry_for(entry_id, actor)
    if entry.status == WaitlistStatus.WITHDRAWN.value:
        return entry
    if not entry.is_in_line(now):
        raise Conflict("This entry is no longer on the waiting list.", code="not_on_waitlist")
    if _end_entry(entry, WaitlistStatus.WITHDRAWN, actor.id, now):
        run_offers(entry.event_id, now)
    return entry


@transactional
def decline_offer(*, entry_id: int, actor: User, now: datetime) -> WaitlistEntry:
    """Turn down an offer: its places pass to the next entry at once. Raises NotFound, OfferExpired."""
    entry = _locked_entry(entry_id)
    get_entry_for(entry_id, actor)
    if entry.status == WaitlistStatus.DECLINED.value:
        return entry
    if not entry.is_offer_live(now):
        raise OfferExpired("This offer has ended.")
    _end_entry(entry, WaitlistStatus.DECLINED, actor.id, now)
    run_offers(entry.event_id, now)
    return entry
