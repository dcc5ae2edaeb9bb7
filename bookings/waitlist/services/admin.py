"""Admin actions on the list: offer out of turn, open or close it, send offers now, end it for a cancelled event."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bookings import capacity
from bookings.accounts.models import User
from bookings.booking.rules import check_event_bookable
from bookings.booking.services import load_event
from bookings.catalogue.models import Event
from bookings.core import audit
from bookings.core.db import transactional
from bookings.core.errors import Conflict, Forbidden, SoldOut
from bookings.extensions import db
from bookings.notifications.outbox import queue_email
from bookings.waitlist.models import IN_LINE, WaitlistEntry, WaitlistStatus
from bookings.waitlist.services.joining import _end_entry, _locked_entry
from bookings.waitlist.services.offers import _expire_lapsed_offers, _make_offer, _rate_for, run_offers

# --- admin ----------------------------------------------------------------------------------------------------------


def _check_admin(actor: User) -> None:
    if not actor.is_admin:
        raise Forbidden("Only an administrator can do this.")


@transactional
def offer_to_entry(*, entry_id: int, actor: User, now: datetime) -> WaitlistEntry:
    """An admin offers places to a chosen waiting entry, out of turn. Raises SoldOut, Conflict, BookingClosed."""
    _check_admin(actor)
    entry = _locked_entry(entry_id)
    if entry.status != WaitlistStatus.WAITING.value:
        raise Conflict("Only an entry that is waiting can be offered places.", code="not_waiting")
    event = load_event(entry.event_id)
    _expire_lapsed_offers(event, now)
    check_event_bookable(event, now)
    left = capacity.availability(event, now)
    rate = _rate_for(entry, list(event.ticket_types), left, now)
    if rate is None:
        raise SoldOut(
            f"There are not enough free places for this entry's {entry.places}.", places_left=left.places_left
        )
    _make_offer(entry, event, rate, actor.id, now)
    return entry


@transactional
def set_waitlist_open(*, event_id: int, is_open: bool, actor: User, now: datetime) -> Event:
    """Close the list to new people (those in line keep their places in it), or reopen it."""
    _check_admin(actor)
    event = capacity.lock_event(event_id)
    if event.is_waitlist_open == is_open:
        return event
    event.is_waitlist_open = is_open
    event.updated_at = now
    audit.record(
        "event.waitlist_opened" if is_open else "event.waitlist_closed",
        "event",
        event.id,
        actor_id=actor.id,
        event_id=event.id,
        at=now,
    )
    return event


@transactional
def send_offers_now(*, event_id: int, actor: User, now: datetime) -> int:
    """Offer any free places to the list at once (an admin's button; the sweep does the same)."""
    _check_admin(actor)
    capacity.lock_event(event_id)
    return run_offers(event_id, now)[1]


def end_waitlist_for_cancelled_event(event: Event, actor_id: int | None, now: datetime) -> None:
    """Catalogue cancellation hook: the list is closed, and everyone in line taken off and told (same transaction).

    The cancellation's own audit record covers the closing; the caller holds the event's lock.
    """
    event.is_waitlist_open = False
    entries = db.session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.event_id == event.id, WaitlistEntry.status.in_(IN_LINE))
        .options(selectinload(WaitlistEntry.user))
    ).all()
    for entry in entries:
        _end_entry(entry, WaitlistStatus.WITHDRAWN, actor_id, now)
        queue_email(
            "waitlist_event_cancelled",
            to=entry.user.email,
            subject=f"Cancelled: {event.title}",
            now=now,
            event_id=event.id,
            event=event,
            entry=entry,
        )
